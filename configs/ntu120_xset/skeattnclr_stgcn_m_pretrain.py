# SkeAttnCLR pretraining, ST-GCN, NTU RGB+D 120 X-Set, joint motion stream
# (made inside the model after augmentation and mixing). Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['./_base_skeattnclr_pretrain.py']
stream = 'm'
model = dict(stream=stream)
