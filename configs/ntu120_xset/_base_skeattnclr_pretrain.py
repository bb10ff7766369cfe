# SkeAttnCLR pretraining on NTU RGB+D 120 X-Set: the data of every stream's
# skeattnclr_*_pretrain.py (which set only the stream). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
ann_file = 'data/nturgbd/ntu120_3d.pkl'
train_split, test_split, num_classes = 'xset_train', 'xset_val', 120
data = dict(ann_file=ann_file, num_classes=num_classes)
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
val_cfg = dict(bank_dataloader=dict(dataset=dict(**data, split=train_split)))
