_base_ = ['./_base_hyperformer.py']
stream = 'j'
model = dict(backbone=dict(joint_label={{_base_.joint_label_j}}))
train_dataloader = dict(dataset=dict(dataset=dict(stream=stream)))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = dict(dataset=dict(stream=stream))
