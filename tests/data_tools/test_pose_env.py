"""The `pose` extra of setup.py and what tools/pose_env.sh installs into
.venv-pose (the MMDetection/MMPose route) are one list."""
import ast
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _setup_tree() -> ast.Module:
    with open(osp.join(REPO, 'setup.py'), encoding='utf-8') as f:
        return ast.parse(f.read())


def _pose_requires_of_setup() -> list:
    for node in _setup_tree().body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == 'POSE_REQUIRES'
                for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError('setup.py defines no POSE_REQUIRES')


def test_pose_extra_is_pose_requires():
    extras = [kw.value for node in ast.walk(_setup_tree())
              if isinstance(node, ast.Call)
              and getattr(node.func, 'id', None) == 'setup'
              for kw in node.keywords if kw.arg == 'extras_require']
    assert len(extras) == 1
    pose = [v for k, v in zip(extras[0].keys, extras[0].values)
            if ast.literal_eval(k) == 'pose']
    assert len(pose) == 1 and getattr(pose[0], 'id', None) == 'POSE_REQUIRES'


def test_pose_env_installs_the_pose_extra():
    with open(osp.join(REPO, 'tools', 'pose_env.sh'), encoding='utf-8') as f:
        script = f.read()
    lists = re.findall(r'^POSE_REQUIRES=\(([^)]*)\)$', script, re.M)
    assert len(lists) == 1, 'pose_env.sh: one POSE_REQUIRES=(...) line'
    assert sorted(lists[0].split()) == sorted(_pose_requires_of_setup())
    assert re.search(r'install -q "\$\{POSE_REQUIRES\[@\]\}"', script)
    # mmdet / mmpose themselves only ever without their declared deps
    assert re.search(r'install -q --no-deps mmdet==3\.3\.0 mmpose==1\.3\.2',
                     script)
