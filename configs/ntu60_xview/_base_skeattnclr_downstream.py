# SkeAttnCLR evaluation on NTU RGB+D 60 X-View: the data of every linear,
# finetune and semi-supervised stream config here (which set the stream, the
# pretrained checkpoint and their schedule). Recipe:
# configs/_base_/skeattnclr_stgcn_downstream.py.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xview_train', 'xview_val', 60
data = dict(ann_file=ann_file, num_classes=num_classes)
model = dict(cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
test_dataloader = val_dataloader
