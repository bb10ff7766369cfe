# SkeAttnCLR pretraining, ST-GCN, PKU-MMD Part I cross-subject, bone
# stream (made inside the model after augmentation and mixing). The recipe
# is the NTU one (spec 4.7: only classes, data and mu change; mu 0.5 as the
# release's PKU configs). Data: tools/data/pkummd_to_pkl.py. Recipe and
# switches: configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['./_base_skeattnclr_pretrain.py']
stream = 'b'
model = dict(stream=stream)
