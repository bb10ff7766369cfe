"""NW-UCLA converter output (tools/data/nwucla_to_pkl.py) on tiny files in
the ``all_sqe`` json format: passes check_pkl and trains the baseline config
for one iteration without the real data (the converter's own tests are in
tests/datasets/test_nwucla_converter.py)."""
import json

import numpy as np

from mmskelcl.datasets.converters import convert_nwucla
from ._helpers import load_tool, train_one_iter

check_pkl = load_tool('check_pkl')


def test_tiny_nwucla_checks_and_trains(tmp_path):
    src = tmp_path / 'all_sqe'
    src.mkdir()
    rng = np.random.default_rng(0)
    for stem, label in (('a01_s01_e00_v01', 1), ('a02_s02_e00_v02', 2),
                        ('a12_s03_e00_v01', 10), ('a03_s01_e00_v03', 3)):
        (src / f'{stem}.json').write_text(json.dumps(dict(
            file_name=stem, label=label,
            skeletons=rng.uniform(-1, 1, (10, 20, 3)).tolist())))
    out = str(tmp_path / 'nwucla.pkl')
    data = convert_nwucla(str(src), out, progress=False)
    assert len(data['split']['train']) == 3
    assert check_pkl.main([out, '--num-classes', '10']) == 0
    runner, _ = train_one_iter('nwucla/ctrgcn_j.py', out,
                               str(tmp_path / 'work'))
    assert runner.train_dataloader.dataset.dataset.split == 'train'
