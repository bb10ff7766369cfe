"""``read_config_text`` reads a config's text as data, never running it
(issue 20): the same values as mmengine's executed config for the text
mmengine itself stores in checkpoints, and every piece of code left out
and named."""
import os.path as osp

from mmengine.config import Config

from mmskelcl.utils.config_text import MAX_TEXT, read_config_text

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_stored_config_text_reads_as_executed():
    """``Config.pretty_text`` (what ``meta['cfg']`` holds) of a shipped
    config (``_base_`` files, ``{{_base_.x}}``): the data read equals the
    executed config, key for key."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'nwucla',
                                   'cacl_ctrgcn_j.py'))
    values, not_data = read_config_text(cfg.pretty_text)
    assert not_data == []
    assert values == Config.fromstring(cfg.pretty_text, '.py').to_dict()
    assert values['train_cfg']['max_epochs'] == cfg.train_cfg.max_epochs


def test_code_is_left_out_and_named(tmp_path):
    canary = tmp_path / 'canary'
    text = '\n'.join([
        '"""doc"""',
        "a = dict(x=1, y=[2, (3, -4.5)], z={'k': None, 1: True})",
        f"b = __import__('os').system('touch {canary}')",
        "import os",
        "c = dict(**a)",
        "d = [1, a]",
        "e = {{_base_.x}}",
        "f, g = 1, 2",
        "a = dict(x=2)",
    ])
    values, not_data = read_config_text(text)
    assert not canary.exists()
    assert values == dict(a=dict(x=2))  # the later assignment wins
    call = f"__import__('os').system('touch {canary}')"
    assert len(call) > 60  # shortened to 57 characters and '...'
    assert not_data == [
        'line 3: ' + call[:57] + '...',
        'line 4: import os', 'line 5: dict(**a)', 'line 6: a',
        'line 7: {{_base_.x}}', 'line 8: f, g = 1, 2']


def test_unparsable_and_oversized_text():
    assert read_config_text('x = (')[1][0].startswith('not Python')
    assert read_config_text(b'x = 1')[1] == ['not a config text but bytes']
    big = 'x = 1\n' + ' ' * MAX_TEXT
    assert read_config_text(big)[0] == {}
    assert 'over the limit' in read_config_text(big)[1][0]
    deep = 'x = ' + '[' * 1000 + ']' * 1000
    values, not_data = read_config_text(deep)
    assert values == {} and len(not_data) == 1
