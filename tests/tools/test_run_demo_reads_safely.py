"""The demo runners read their own score dumps with the safe loader
(issue 20): the summary table of real-format dumps, and a dump with a
``__reduce__`` payload refused without running it."""
import os
import pickle

import pytest

from tool_helpers import load_tool


class _Payload:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def _metrics(top1, mean1):
    return dict(top1=top1, mean1=mean1, top5=1.0)


def test_summary_of_dumps(tmp_path):
    demo = load_tool('run_demo.py')
    path = str(tmp_path / 'cacl.pkl')
    with open(path, 'wb') as f:
        pickle.dump(dict(metrics=dict(j=_metrics(0.5, 0.25),
                                      fused=_metrics(0.75, 0.625))), f)
    rows = demo.summary({'cacl': path}, ['j']).splitlines()
    assert rows[-1] == 'cacl'.ljust(14) + ' 50.00 / 25.00' + ' 75.00 / 62.50'

    canary = tmp_path / 'canary'
    with open(path, 'wb') as f:
        pickle.dump(dict(metrics=_Payload(f'touch {canary}')), f)
    with pytest.raises(pickle.UnpicklingError, match='cacl.pkl'):
        demo.summary({'cacl': path}, ['j'])
    assert not canary.exists()
