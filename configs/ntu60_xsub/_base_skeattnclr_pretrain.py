# SkeAttnCLR pretraining on NTU RGB+D 60 X-Sub: the data of every stream's
# skeattnclr_*_pretrain.py (which set only the stream). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 60
data = dict(ann_file=ann_file, num_classes=num_classes)
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
val_cfg = dict(bank_dataloader=dict(dataset=dict(**data, split=train_split)))
