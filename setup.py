from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


# Optional features: t-SNE and figures (tools/analysis/), ONNX export with
# onnxruntime verification (tools/export_onnx.py; onnxscript is needed by
# torch's default, dynamo-based exporter). None of them requires torch.
ANALYSIS_REQUIRES = ['scikit-learn>=1.2', 'matplotlib>=3.5']
EXPORT_REQUIRES = ['onnx>=1.15', 'onnxruntime>=1.17', 'onnxscript>=0.2']
# The light pose-extraction backend (RTMDet + RTMPose ONNX models through
# onnxruntime, --backend onnx). OpenCV already comes with mmcv-lite; use
# onnxruntime-gpu in place of onnxruntime for a CUDA device.
POSE_ONNX_REQUIRES = ['onnxruntime>=1.17']
# Skeleton rendering to GIF / MP4 (mmskelcl.visualization,
# tools/analysis/vis_skeleton.py, tools/demo/demo_skeleton.py): OpenCV draws
# (it comes with mmcv-lite), imageio encodes with its bundled ffmpeg.
VIS_REQUIRES = ['imageio[ffmpeg]>=2.28']
# The pure-Python modules that the MMDetection/MMPose backend
# (--backend mmpose) imports besides mmdet/mmpose themselves. Not enough on
# its own: mmcv must be built with its compiled ops (in place of
# mmcv-lite), mmdet 3.3.0 / mmpose 1.3.2 installed with --no-deps (mmpose
# declares chumpy, which does not build on numpy 2), xtcocotools built for
# numpy 2 and torchvision matched to torch. `make pose-env`
# (tools/pose_env.sh) does all of that in .venv-pose and installs exactly
# this list there (tests/data_tools/test_pose_env.py keeps the two equal).
POSE_REQUIRES = [
    'matplotlib', 'munkres', 'pycocotools', 'scipy', 'shapely', 'six',
    'terminaltables'
]

version = {}
with open('mmskelcl/version.py', encoding='utf-8') as f:
    exec(f.read(), version)

setup(
    name='mmskelcl',
    version=version['__version__'],
    description='Contrastive skeleton-based action recognition '
    '(CACL, SkeletonGCL, FR-Head, CSRE, SkeAttnCLR) as an MMAction2 plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmskelcl', 'mmskelcl.*']),
    python_requires='>=3.9',
    # torch is an open range on purpose: on a GPU machine the user's CUDA
    # build satisfies it. The Makefile installs the CPU wheel
    # torch==2.13.0 *before* this package so pip never resolves torch
    # from the registry (which would pull the multi-GB CUDA build).
    install_requires=[
        'torch>=2.6',
        'numpy>=2',
        'mmengine==0.10.7',
        'mmcv-lite==2.1.0',
        'mmaction2==1.2.0',
        'importlib-metadata',  # imported by mmaction2 but not declared
        'scipy',
        'tqdm',
    ],
    extras_require={
        'analysis': ANALYSIS_REQUIRES,
        'export': EXPORT_REQUIRES,
        # onnx (from EXPORT_REQUIRES) also builds the pose backend's test
        # models.
        'tests': ['pytest>=7', 'pytest-timeout'] + ANALYSIS_REQUIRES +
        EXPORT_REQUIRES + POSE_ONNX_REQUIRES + VIS_REQUIRES,
        'pose-onnx': POSE_ONNX_REQUIRES,
        'vis': VIS_REQUIRES,
        # see POSE_REQUIRES: use `make pose-env` for the whole route
        'pose': POSE_REQUIRES,
    },
    license='Apache-2.0',
)
