_base_ = ['./_base_hcn.py']
stream = 'j'
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
