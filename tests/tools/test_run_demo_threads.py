"""``make demo`` says how many torch threads its runs used (issue 23):
single streams change with the thread count, so the printed table is only
comparable between runs with the same count."""
import sys

from tool_helpers import load_tool


def test_demo_reports_the_thread_count_of_its_runs(tmp_path, monkeypatch,
                                                   capsys):
    demo = load_tool('run_demo.py')
    calls = []
    monkeypatch.setattr(demo, 'run', calls.append)
    monkeypatch.setattr(demo, 'last_checkpoint', lambda w: w + '/last.pth')
    monkeypatch.setattr(demo, 'summary', lambda dumps, streams: 'SUMMARY')
    monkeypatch.setattr(demo.osp, 'exists', lambda p: True)
    monkeypatch.setattr(demo, 'torch_threads', lambda: 3)
    monkeypatch.setattr(sys, 'argv', ['run_demo.py', '--methods', 'ctrgcn',
                                      '--streams', 'j', '--weights', '1',
                                      '--work-dir', str(tmp_path)])
    demo.main()
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == 'SUMMARY'
    assert 'with 3 torch threads per run' in out[-1]
    assert len(calls) == 2  # one training, one test

