_base_ = ['./_base_blockgcn.py']
stream = 'jm'
# the stream, then the joints for the persistence encoding
train_dataloader = dict(dataset=dict(dataset=dict(stream=(stream, 'j'))))
val_dataloader = dict(dataset=dict(stream=(stream, 'j')))
test_dataloader = dict(dataset=dict(stream=(stream, 'j')))
