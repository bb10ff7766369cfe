# SkeAttnCLR pretraining, ST-GCN, NTU RGB+D 60 X-View, bone stream (made
# inside the model after augmentation and mixing). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['./_base_skeattnclr_pretrain.py']
stream = 'b'
model = dict(stream=stream)
