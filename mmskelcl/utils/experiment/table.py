"""The comparison table and plot of a folder of run JSONs.

Per entry: mean +- sample standard deviation over its seeds and every
seed's value. Per entry with a baseline: the paired difference (entry -
baseline, same seed, hence the same initial weights) seed by seed, its
mean +- sd, how many seeds the entry wins (difference > 0) and the paired
t statistic ``mean / (sd / sqrt(n))`` (n - 1 degrees of freedom). The
default baseline of ``<method>_<encoder>_<stream>`` is
``<encoder>_<stream>`` when that entry exists (``csre_ctrgcn_j`` ->
``ctrgcn_j``); the probe ``X>LINEAR`` is paired with ``random>LINEAR``.
"""
import glob
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

# method prefixes, longest first: the combined heads (docs/combined.md)
# pair with the plain encoder config, as the single methods do
METHODS = ('cacl_frhead_csre_', 'cacl_frhead_', 'cacl_csre_', 'frhead_csre_',
           'cacl_', 'skeletongcl_', 'frhead_', 'csre_')


def load_results(results_dir: str) -> Dict[str, Dict[int, dict]]:
    """``{entry: {seed: record}}`` of every ``*.json`` run record."""
    out: Dict[str, Dict[int, dict]] = {}
    for path in sorted(glob.glob(osp.join(results_dir, '*.json'))):
        with open(path) as f:
            rec = json.load(f)
        if 'entry' not in rec or 'seed' not in rec:
            continue  # not a run record (e.g. a benchmark JSON)
        out.setdefault(rec['entry'], {})[int(rec['seed'])] = rec
    return out


def run_minutes(record: dict) -> Optional[float]:
    """Wall minutes of a whole run. A stage that resumed was timed only
    from its checkpoint on (the killed attempts left no time), so its time
    is scaled by ``total iterations / iterations run``; ``None`` where a
    resumed stage does not say where it started."""
    total = 0.0
    for name, st in record.get('stages', {}).items():
        wall = st['wall_s']
        if st.get('resumed'):
            iters = record.get('resolved_schedule', {}).get(
                name, {}).get('total_iters')
            start = st.get('start_iter')
            if not iters or start is None or not 0 <= start < iters:
                return None
            wall *= iters / (iters - start)
        total += wall
    return total / 60 if record.get('stages') else record['wall_s'] / 60


def mean_sd(values: Sequence[float]) -> Tuple[float, Optional[float]]:
    """Mean and sample standard deviation (``None`` for one value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))


def default_baseline(entry: str, entries: Sequence[str]) -> Optional[str]:
    if '>' in entry:
        pre, probe = entry.split('>', 1)
        base = f'random>{probe}'
        return base if pre != 'random' and base in entries else None
    for m in METHODS:
        if entry.startswith(m) and entry[len(m):] in entries:
            return entry[len(m):]
    return None


def _num(x: float, sign: str = '') -> str:
    """``x`` to 2 decimals; a value that rounds to zero prints as 0.00,
    never -0.00 (two diffs that cancel leave a float residue)."""
    return f'{0.0 if round(x, 2) == 0 else x:{sign}.2f}'


def _fmt(mean: float, sd: Optional[float], sign: str = '') -> str:
    text = _num(mean, sign)
    return text if sd is None else f'{text} +- {sd:.2f}'


def _anchor_note(rec: dict) -> str:
    zero = [k for k, v in rec.get('anchors', {}).items() if v == 0]
    return f' (zero anchors: {", ".join(zero)})' if zero else ''


def _same_start(a: dict, b: dict) -> bool:
    """False when two supervised runs of one seed are known to have started
    from different backbone / classifier weights (fingerprints recorded by
    ``EpochSeedHook`` differ, e.g. runs of code versions that initialise
    differently); unknown (an older run without one) counts as paired."""
    fa, fb = a.get('initial_weights'), b.get('initial_weights')
    if a.get('pretrain') or b.get('pretrain') or not (fa and fb):
        return True
    return fa == fb


def summarize(results: Dict[str, Dict[int, dict]], metric: str = 'top1',
              baselines: Sequence[str] = (),
              expect: Sequence[str] = ()) -> dict:
    """Numbers of the table: ``rows`` (per entry) and ``pairs``."""
    expected: Dict[str, List[int]] = {}
    for item in expect:
        name, _, seeds = item.rpartition(':')
        expected[name] = [int(s) for s in seeds.split(',') if s]
    # each baseline before the entries paired with it
    base = {n: default_baseline(n, list(results)) for n in results}
    found = sorted(results, key=lambda n: (base[n] or n, base[n] is not None,
                                           n))
    names = list(dict.fromkeys(list(expected) + found))
    rows = []
    for name in names:
        runs = results.get(name, {})
        seeds = sorted(set(runs) | set(expected.get(name, [])))
        values = {s: runs[s][metric] for s in seeds if s in runs}
        row = dict(entry=name, values=values,
                   pending=[s for s in seeds if s not in runs])
        if values:
            row['mean'], row['sd'] = mean_sd(list(values.values()))
            mins = [m for m in map(run_minutes, runs.values())
                    if m is not None]
            row['minutes'] = sum(mins) / len(mins) if mins else None
            row['anchors'] = {
                k: sum(r.get('anchors', {}).get(k, 0)
                       for r in runs.values()) / len(runs)
                for k in sorted({k for r in runs.values()
                                 for k in r.get('anchors', {})})}
        rows.append(row)
    base_of = {}
    for b in baselines:
        for name in names:
            if name != b and default_baseline(name, [b]) == b:
                base_of[name] = b
    pairs = []
    for name in names:
        base = base_of.get(name) or default_baseline(name, names)
        if base is None:
            continue
        a, b = results.get(name, {}), results.get(base, {})
        common = sorted(set(a) & set(b))
        unpaired = [s for s in common if not _same_start(a[s], b[s])]
        diffs = {s: a[s][metric] - b[s][metric] for s in common
                 if s not in unpaired}
        pair = dict(entry=name, baseline=base, diffs=diffs,
                    wins=sum(d > 0 for d in diffs.values()),
                    n=len(diffs), unpaired=unpaired)
        if diffs:
            pair['mean'], pair['sd'] = mean_sd(list(diffs.values()))
            if pair['sd']:  # paired t statistic, n - 1 degrees of freedom
                pair['t'] = pair['mean'] / (pair['sd'] /
                                            math.sqrt(len(diffs)))
        pairs.append(pair)
    return dict(metric=metric, rows=rows, pairs=pairs)


def to_markdown(summary: dict) -> str:
    """Two markdown tables: per entry, and paired differences."""
    rows, pairs = summary['rows'], summary['pairs']
    seeds = sorted({s for r in rows for s in list(r['values']) +
                    r['pending']})
    metric = summary['metric']
    lines = [f'| entry | {metric} mean +- sd | ' +
             ' | '.join(f'seed {s}' for s in seeds) +
             ' | min/run | anchor fractions |',
             '|---|---|' + '---|' * len(seeds) + '---|---|']
    for r in rows:
        cells = []
        for s in seeds:
            cells.append(f'{r["values"][s]:.2f}' if s in r['values'] else
                         'pending' if s in r['pending'] else '')
        summ = _fmt(r['mean'], r['sd']) if r['values'] else 'pending'
        mins = (f'{r["minutes"]:.0f}' if r.get('minutes') is not None
                else '')
        anch = ', '.join(f'{k} {v:.2f}' for k, v in
                         r.get('anchors', {}).items())
        lines.append(f'| `{r["entry"]}` | {summ} | ' + ' | '.join(cells) +
                     f' | {mins} | {anch} |')
    if pairs:
        lines += ['', f'| entry - baseline (same seed) | {metric} diff mean '
                  '+- sd | ' + ' | '.join(f'seed {s}' for s in seeds) +
                  ' | wins | paired t |',
                  '|---|---|' + '---|' * len(seeds) + '---|---|']
        for p in pairs:
            cells = [_num(p['diffs'][s], '+') if s in p['diffs'] else ''
                     for s in seeds]
            summ = (_fmt(p['mean'], p['sd'], '+') if p['diffs'] else
                    'pending')
            lines.append(f'| `{p["entry"]}` - `{p["baseline"]}` | {summ} | '
                         + ' | '.join(cells) + f' | {p["wins"]}/{p["n"]} | '
                         + (f'{_num(p["t"], "+")} |' if 't' in p else '|'))
        for p in pairs:
            if p.get('unpaired'):
                lines.append(
                    f'\nLeft out of `{p["entry"]}` - `{p["baseline"]}`: '
                    f'seed {", ".join(map(str, p["unpaired"]))} (the two '
                    'runs started from different initial weights).')
    return '\n'.join(lines) + '\n'


def _points(ax, labels: List[str], series: List[Dict[int, float]],
            colour: Dict[int, str], at: Optional[List[int]] = None) -> None:
    """Per-seed dots (one colour per seed, so a seed's runs can be followed
    across entries) and mean +- sd (black diamond) per label, at x
    positions ``at`` (default 0, 1, ...)."""
    at = list(range(len(labels))) if at is None else at
    for i, vals in zip(at, series):
        for k, (seed, v) in enumerate(sorted(vals.items())):
            ax.scatter([i - 0.12 + 0.08 * (k % 4)], [v], s=16, zorder=3,
                       color=colour[seed])
        mean, sd = mean_sd(list(vals.values()))
        ax.errorbar([i + 0.25], [mean], yerr=[sd or 0], fmt='D',
                    color='black', capsize=4, markersize=5)
    ax.set_xticks(at)
    ax.set_xticklabels(labels, rotation=30, ha='right', fontsize=8)
    ax.set_xlim(-0.5, max(at, default=0) + 0.5)
    ax.grid(axis='y', alpha=0.3)


def families(summary: dict) -> List[Tuple[List[dict], List[dict]]]:
    """The finished rows grouped with their baseline, in table order: per
    family its rows (the baseline's among them) and its pairs that have a
    seed in common; a row paired with nothing is a family of its own."""
    pairs = [p for p in summary['pairs'] if p['diffs']]
    base = {p['entry']: p['baseline'] for p in pairs}
    out: Dict[str, Tuple[List[dict], List[dict]]] = {}
    for r in summary['rows']:
        if r['values']:
            key = base.get(r['entry'], r['entry'])
            out.setdefault(key, ([], []))[0].append(r)
    for p in pairs:
        out[p['baseline']][1].append(p)
    return list(out.values())


def _min_span(ax, span: float) -> None:
    """Widen the y range to at least ``span`` around its middle, so that
    a panel of close values does not blow a 0.2-point gap up to its
    height."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2
        ax.set_ylim(mid - span / 2, mid + span / 2)


def short_label(entry: str, baseline: str) -> str:
    """``entry``'s tick label in its baseline's panel: the method prefix of
    ``<method>_<baseline>`` (``cacl_ctrgcn_j`` -> ``cacl``), the pretraining
    of ``PRE>PROBE`` against ``random>PROBE`` (``random`` for the
    baseline), else the whole name."""
    if '>' in baseline:
        probe = '>' + baseline.split('>', 1)[1]
        return entry[:-len(probe)] if entry.endswith(probe) else entry
    suffix = '_' + baseline
    return entry[:-len(suffix)] if entry.endswith(suffix) else entry


def probe_title(baseline: str, entries: Sequence[str]) -> str:
    """The title of a ``random>PROBE`` family's panel: the probe less the
    words it shares with the family's pretrainings
    (``skeattnclr_stgcn_j_linear_bn`` under ``skeattnclr_stgcn_j_pretrain``
    -> ``probe linear_bn``); the whole probe when only ``random`` probes
    it."""
    probe = baseline.split('>', 1)[1]
    pre = [e.split('>', 1)[0] for e in entries
           if not e.startswith('random>')]
    if not pre:
        return f'probe {probe}'
    stem = osp.commonprefix([probe] + pre)
    return f'probe {probe[stem.rfind("_") + 1:]}'


def plot(summary: dict, path: str) -> None:
    """One column of panels per family (a baseline and the methods paired
    with it, each on its own scale). Top: per-seed values of each entry,
    mean +- sd. Bottom (when any pair has a seed in common): each method's
    paired difference to its baseline per seed, mean +- sd, the zero
    line."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fams = families(summary)
    seeds = sorted({s for rows, _ in fams for r in rows for s in r['values']})
    cycle = plt.rcParams['axes.prop_cycle'].by_key()['color']
    colour = {s: cycle[i % len(cycle)] for i, s in enumerate(seeds)}
    widths = [len(rows) for rows, _ in fams] or [1]
    paired = any(pairs for _, pairs in fams)
    fig, axes = plt.subplots(
        1 + paired, len(widths), squeeze=False,
        gridspec_kw=dict(width_ratios=widths),
        figsize=(1.2 + 0.6 * sum(widths) + 0.5 * len(widths),
                 3.2 + 2.6 * paired))
    for k, (rows, pairs) in enumerate(fams):
        ax = axes[0][k]
        base = pairs[0]['baseline'] if pairs else rows[0]['entry']
        _points(ax, [short_label(r['entry'], base) for r in rows],
                [r['values'] for r in rows], colour)
        if '>' in base:
            ax.set_title(probe_title(base, [r['entry'] for r in rows]),
                         fontsize=8)
        _min_span(ax, 4.0)
        if not paired:
            continue
        ax = axes[1][k]
        if not pairs:
            ax.axis('off')
            continue
        names = [r['entry'] for r in rows]
        _points(ax, [short_label(p['entry'], base) for p in pairs],
                [p['diffs'] for p in pairs], colour,
                at=[names.index(p['entry']) for p in pairs])
        ax.set_xlim(-0.5, len(rows) - 0.5)  # under the entries above
        ax.axhline(0, color='grey', linewidth=1)
        _min_span(ax, 4.0)
    axes[0][0].set_ylabel(f'{summary["metric"]} (%), mean +- sd')
    if paired:
        first = next(k for k, (_, pairs) in enumerate(fams) if pairs)
        axes[1][first].set_ylabel('minus its baseline,\nsame seed (points)')
    handles = [plt.Line2D([], [], marker='o', linestyle='', color=c,
                          label=f'seed {s}') for s, c in colour.items()]
    if handles:
        fig.legend(handles=handles, loc='upper right', fontsize=7,
                   ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


BEGIN = '<!-- experiment-table {} -->'
END = '<!-- /experiment-table -->'


def replace_block(doc: str, key: str, text: str) -> str:
    """``doc`` with the text between ``BEGIN.format(key)`` and the next
    ``END`` replaced by ``text``."""
    begin = BEGIN.format(key)
    i = doc.find(begin)
    j = doc.find(END, i + len(begin)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise ValueError(f'no "{begin}" ... "{END}" block to fill')
    return doc[:i + len(begin)] + '\n' + text + doc[j:]


def write_table(results_dir: str, baselines: Sequence[str] = (),
                expect: Sequence[str] = (), out: Optional[str] = None,
                metric: str = 'top1', into: Optional[str] = None) -> str:
    """Markdown of ``results_dir``; with ``out`` also writes it and the
    plot (``out`` with ``.png``); with ``into`` also replaces the block
    ``<!-- experiment-table KEY -->`` ... ``<!-- /experiment-table -->``
    of that file (KEY: ``results_dir`` as given)."""
    summary = summarize(load_results(results_dir), metric, baselines,
                        expect)
    text = to_markdown(summary)
    if out is not None:
        with open(out, 'w') as f:
            f.write(text)
        plot(summary, osp.splitext(out)[0] + '.png')
    if into is not None:
        with open(into) as f:
            doc = f.read()
        with open(into, 'w') as f:
            f.write(replace_block(doc, results_dir.rstrip('/'), text))
    return text
