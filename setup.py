from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


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
        'tests': ['pytest>=7', 'pytest-timeout'],
    },
    license='Apache-2.0',
)
