_base_ = ['./_base_skeletongcl_ctrgcn.py']
stream = 'jm'
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
model = dict(aux_heads=dict(graph=dict(loss=dict(temperature=0.5))))
