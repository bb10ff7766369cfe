"""tools/run_demo_skeattnclr.py's orchestration with the subprocesses
replaced: what each step is given (checkpoints, --ann-file, options that
belong to training only) and the table it prints from knn_eval's JSON and
test.py's score dumps."""
import json
import os
import os.path as osp
import pickle
import sys
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    return load_tool('run_demo_skeattnclr.py')


def _value(cmd, flag):
    return cmd[cmd.index(flag) + 1]


def test_steps_and_table(tmp_path, monkeypatch, capsys):
    tool = _load_tool()
    calls = []
    top1 = {'linear_pretrained': 0.35, 'linear_random': 0.1625}

    def fake_run(cmd):
        calls.append(cmd)
        script = cmd[1]
        if script == 'tools/train.py':
            work = _value(cmd, '--work-dir')
            os.makedirs(work, exist_ok=True)
            with open(osp.join(work, 'last_checkpoint'), 'w') as f:
                f.write(osp.join(work, 'epoch_3.pth'))
        elif script == 'tools/knn_eval.py':
            # the JSON knn_eval.py --out writes
            with open(_value(cmd, '--out'), 'w') as f:
                json.dump(dict(config=cmd[2], checkpoint=cmd[3], metrics={
                    'knn/top1_k20': 0.25, 'knn/top1_k10': 0.3625}), f)
        elif script == 'tools/test.py':
            name = osp.basename(osp.dirname(cmd[3]))
            with open(_value(cmd, '--dump'), 'wb') as f:
                pickle.dump(dict(metrics=dict(j=dict(top1=top1[name]))), f)

    monkeypatch.setattr(tool, 'run', fake_run)
    work = str(tmp_path / 'runs')
    monkeypatch.setattr(sys, 'argv', [
        'run_demo_skeattnclr.py', '--pretrain', 'P.py', '--linear', 'L.py',
        '--ann-file', 'my.pkl', '--work-dir', work, '--pretrain-options',
        'model.x=1', 'train_cfg.max_epochs=2', '--linear-options',
        'model.y=2', 'train_cfg.max_epochs=3'])
    tool.main()
    scripts = [c[1] for c in calls]
    assert scripts == ['tools/train.py', 'tools/knn_eval.py',
                       'tools/train.py', 'tools/test.py', 'tools/train.py',
                       'tools/test.py']
    pre, knn, lin_p, test_p, lin_r, test_r = calls
    assert _value(pre, '--ann-file') == 'my.pkl'
    assert pre[-2:] == ['model.x=1', 'train_cfg.max_epochs=2']
    ckpt = osp.join(work, 'pretrain', 'epoch_3.pth')
    assert knn[2:4] == ['P.py', ckpt]
    # kNN: the model options, not the schedule; every loader on my.pkl,
    # the bank included (knn_eval.py --ann-file, tested with the tool)
    opts = knn[knn.index('--cfg-options') + 1:]
    assert 'model.x=1' in opts and 'train_cfg.max_epochs=2' not in opts
    assert _value(knn, '--ann-file') == 'my.pkl'
    assert f'model.backbone.init_cfg.checkpoint={ckpt}' in lin_p
    assert 'model.backbone.init_cfg=None' in lin_r
    for probe in (lin_p, lin_r):
        assert probe[-2:] == ['model.y=2', 'train_cfg.max_epochs=3']
        assert _value(probe, '--ann-file') == 'my.pkl'
    for test in (test_p, test_r):
        assert _value(test, '--ann-file') == 'my.pkl'
        assert 'train_cfg.max_epochs=3' not in test
    assert test_p[2:4] == ['L.py', osp.join(work, 'linear_pretrained',
                                            'epoch_3.pth')]
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    assert 'kNN of the pretrained features, knn/top1_k10:  36.25' in lines
    assert 'kNN of the pretrained features, knn/top1_k20:  25.00' in lines
    assert lines.index('kNN of the pretrained features, knn/top1_k10:  '
                       '36.25') < lines.index(
                           'kNN of the pretrained features, knn/top1_k20:  '
                           '25.00')
    assert 'linear probe, pretrained frozen backbone:  35.00' in lines
    assert 'linear probe, random frozen backbone:      16.25' in lines
