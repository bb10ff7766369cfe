"""The GPU suite's plumbing on the CPU (tools/benchmark.py --suite gpu
--device cpu --tiny): every item runs and lands in the JSON and the
markdown, so that the GPU run cannot fail on a typo."""
import json

import pytest

from mmskelcl.utils.benchmark import suite


class _AmpOnCpu(suite.Settings):
    """Takes the suite's AMP branch on the CPU (fp32 underneath)."""
    amp_calls = []

    def __init__(self, device, tiny):
        super().__init__(device, tiny)
        self.amp = True

    def bench(self, config, baseline=None, amp=False, compile=False):
        self.amp_calls.append(amp)
        return super().bench(config, baseline, False, compile)


def test_markdown_of_a_failed_and_a_skipped_item():
    res = dict(device='cpu', device_name='cpu', torch_version='x',
               tiny=True, dataset='ntu60_xsub', total_s=1.0, items={
                   'methods/CTR-GCN': dict(status='error: ValueError: boom'),
                   'skeattnclr': dict(status='skipped: time budget spent')})
    md = suite.markdown(res)
    assert '| CTR-GCN | error: ValueError: boom |' in md
    assert '| skipped: time budget spent | - |' in md
    assert '| CSRE / Hyperformer | missing |' in md


@pytest.mark.slow
def test_tiny_suite_runs_every_item(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, 'Settings', _AmpOnCpu)
    res = suite.run_suite('cpu', tiny=True, budget_s=1e9,
                          say=lambda m: None)
    items = res['items']
    assert {k: v['status'] for k, v in items.items()} == {
        k: 'ok' for k in [f'methods/{r}' for r, _, _ in suite.METHODS] +
        [f'compile/{c}' for c in suite.COMPILED] +
        ['bank_loss', 'skeattnclr']}
    assert _AmpOnCpu.amp_calls.count(True) == len(suite.METHODS)
    csre = items['methods/CSRE / CTR-GCN']['result']
    assert csre['baseline'] == 'ctrgcn_j'
    assert csre['fp32']['input_shape'] == [2, 64, 25, 3]
    assert csre['fp32']['batch_size'] == 2
    assert csre['fp32']['train_step_ratio_paired'] > 0
    assert csre['fp16_over_fp32'] > 0
    assert 'train_step_ratio_paired' not in \
        items['methods/CTR-GCN']['result']['fp32']  # no baseline
    assert items['compile/ctrgcn_j']['result']['backend'] == 'eager'
    assert set(items['bank_loss']['result']) == {'tiny_R+CA', 'tiny_R+H'}
    assert items['bank_loss']['result']['tiny_R+H']['speedup'] > 0
    assert items['skeattnclr']['result']['batch_size'] == 4
    json_path, md_path = suite.write(res, str(tmp_path / 'suite'))
    with open(json_path) as f:
        assert json.load(f)['items'].keys() == items.keys()
    md = open(md_path).read()
    assert md.count('\n| ') >= len(suite.METHODS) + 6
    assert 'error' not in md and 'missing' not in md


def test_benchmark_cli_dispatches_the_suite(tmp_path, monkeypatch, capsys):
    from tool_helpers import load_tool
    seen = {}

    def fake(device, tiny, budget_s, say):
        seen.update(device=device, tiny=tiny, budget_s=budget_s)
        say('item: ok')
        return dict(device='cpu', device_name='cpu', torch_version='x',
                    tiny=tiny, dataset='ntu60_xsub', total_s=0.0, items={})

    monkeypatch.setattr(suite, 'run_suite', fake)
    load_tool('benchmark.py').main(['--suite', 'gpu', '--device', 'cpu',
                                    '--tiny', '--budget', '30', '--out',
                                    str(tmp_path / 'out' / 's')])
    assert seen == dict(device='cpu', tiny=True, budget_s=30.0)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == dict(json=str(tmp_path / 'out' / 's.json'),
                       markdown=str(tmp_path / 'out' / 's.md'))
    assert 'TINY' in (tmp_path / 'out' / 's.md').read_text()
    # without --budget: the suite's own budget
    load_tool('benchmark.py').main(['--suite', 'gpu', '--device', 'cpu',
                                    '--out', str(tmp_path / 'out' / 'd')])
    assert seen == dict(device='cpu', tiny=False, budget_s=suite.BUDGET_S)
