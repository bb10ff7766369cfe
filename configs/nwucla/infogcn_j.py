_base_ = ['./_base_infogcn.py']
stream = 'j'
train_dataloader = dict(dataset=dict(dataset=dict(stream=stream)))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
