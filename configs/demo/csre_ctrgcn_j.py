_base_ = ['./_base_csre_ctrgcn.py']
stream = 'j'
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
