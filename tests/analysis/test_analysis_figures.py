"""Training curves from mmengine JSON logs, and figures at FineGym scale."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmskelcl.analysis import build_report
from mmskelcl.analysis.logs import default_keys, load_run
from mmskelcl.analysis.plots import plot_confusion, plot_embeddings
from mmskelcl.evaluation import StreamScores
from ._analysis_helpers import check_png, load_tool

ITERS_PER_EPOCH = 4


def _write_log(work_dir, stamp, epochs, aux=False, start_epoch=1):
    """An mmengine-style JSON log: train lines every 2 iterations, one val
    line per epoch (step = epoch), like LocalVisBackend writes them."""
    vis = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(vis)
    lines = []
    for epoch in range(start_epoch, epochs + 1):
        for it in range(2, ITERS_PER_EPOCH + 1, 2):
            step = (epoch - 1) * ITERS_PER_EPOCH + it
            row = dict(lr=0.1, data_time=0.01, loss_cls=2.0 / step,
                       time=0.3, epoch=epoch, iter=step, step=step)
            row['loss'] = row['loss_cls']
            if aux:
                row['loss_contrast'] = 1.0 + 1.0 / step
                row['loss'] += row['loss_contrast']
            lines.append(row)
        lines.append({'acc/top1': 0.2 * epoch, 'acc/top5': 0.9,
                      'acc/mean1': 0.15 * epoch, 'data_time': 0.01,
                      'time': 0.1, 'step': epoch})
    for name in (f'{stamp}.json', 'scalars.json'):
        with open(osp.join(vis, name), 'w') as f:
            f.write('\n'.join(json.dumps(r) for r in lines) + '\n')


def test_load_run_joins_resumed_logs(tmp_path):
    work = str(tmp_path / 'cacl_ctrgcn_j')
    _write_log(work, '20240101_000000', epochs=2, aux=True)
    _write_log(work, '20240102_000000', epochs=4, aux=True, start_epoch=3)
    run = load_run(work)
    assert run.name == 'cacl_ctrgcn_j'
    assert run.iters_per_epoch == ITERS_PER_EPOCH
    steps, values = run.train['loss_cls']
    assert steps.tolist() == [2, 4, 6, 8, 10, 12, 14, 16]
    np.testing.assert_allclose(values, 2.0 / steps)
    assert run.val['acc/top1'][0].tolist() == [1, 2, 3, 4]
    assert default_keys([run]) == ['loss', 'loss_cls', 'loss_contrast',
                                   'acc/top1', 'acc/top5', 'acc/mean1']
    with pytest.raises(FileNotFoundError, match='no mmengine JSON log'):
        load_run(str(tmp_path / 'missing'))


def test_plot_log_tool(tmp_path, capsys):
    base, method = str(tmp_path / 'ctrgcn_j'), str(tmp_path / 'cacl_j')
    _write_log(base, '20240101_000000', epochs=3)
    _write_log(method, '20240101_000001', epochs=3, aux=True)
    out = str(tmp_path / 'curves.png')
    tool = load_tool('analysis', 'plot_log.py')
    tool.main([base, method, '--out', out, '--legend', 'CTR-GCN', 'CACL'])
    text = capsys.readouterr().out
    assert ('keys loss, loss_cls, loss_contrast, acc/top1, acc/top5, '
            'acc/mean1') in text
    h, w = check_png(out)
    assert (h, w) == (1080, 1000)  # 3 rows x 2 columns of panels
    one = str(tmp_path / 'one.png')
    json_file = osp.join(base, '20240101_000000', 'vis_data',
                         '20240101_000000.json')
    tool.main([json_file, '--out', one, '--keys', 'loss_cls', '--by-iter'])
    check_png(one)


def test_figures_at_finegym_scale(tmp_path):
    rng = np.random.default_rng(0)
    k, n = 99, 600
    labels = np.arange(n) % k
    scores = rng.random((n, k))
    scores[np.arange(n), labels] += rng.random(n) * 1.2
    report = build_report(StreamScores('gym', [str(i) for i in range(n)],
                                       scores, labels))
    h, w = check_png(plot_confusion(report, str(tmp_path / 'conf.png')))
    assert 1000 <= h <= 2100 and 1000 <= w <= 2300
    xy = rng.normal(size=(n, 2))
    check_png(plot_embeddings([('a', xy, labels), ('b', -xy, labels)],
                              str(tmp_path / 'tsne.png'), num_classes=k))
