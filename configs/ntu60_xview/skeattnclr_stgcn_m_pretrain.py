# SkeAttnCLR pretraining, ST-GCN, NTU RGB+D 60 X-View, joint motion stream
# (made inside the model after augmentation and mixing). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
stream = 'm'
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xview_train', 'xview_val', 60
data = dict(ann_file=ann_file, num_classes=num_classes)
model = dict(stream=stream)
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
val_cfg = dict(bank_dataloader=dict(dataset=dict(**data, split=train_split)))
