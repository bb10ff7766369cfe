_base_ = ['./_base_blockgcn.py']
stream = 'j'  # the joints themselves feed the persistence encoding
model = dict(backbone=dict(topo_channels=0))
train_dataloader = dict(dataset=dict(dataset=dict(stream=stream)))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
