# SkeAttnCLR pretraining, ST-GCN, NTU RGB+D 120 X-Sub, joint stream (made
# inside the model after augmentation and mixing). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['./_base_skeattnclr_pretrain.py']
stream = 'j'
model = dict(stream=stream)
