"""Export a skeleton recognizer to ONNX and check it with onnxruntime.

    python tools/export_onnx.py CONFIG CHECKPOINT OUT.onnx
        [--exporter auto|dynamo|legacy] [--opset N]
        [--input-shape CLIPS M T V C]

Exports the inference model (``RecognizerGCN``: backbone + head; the
training-only contrastive / FR heads of the config are left out) from
``skeleton (N, CLIPS, M, T, V, C)`` to ``scores (N, K)`` (clip-averaged as
the head's ``average_clips``), with a dynamic batch axis. The other axes
come from the config's test pipeline unless ``--input-shape`` is given.
Then runs onnxruntime and PyTorch on random inputs of batch 1 and 3 and
prints the maximum absolute difference. ``--exporter auto`` tries torch's
default (dynamo) exporter first and falls back to the TorchScript one.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

try:
    import mmskelcl  # noqa: F401
except ImportError:  # not installed: run from a source checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction

from mmskelcl.apis.inference import inference_pipeline_cfg, init_recognizer
from mmskelcl.apis.onnx_export import (EXPORTERS, export_onnx, input_shape_of,
                                       verify_onnx)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='Export a skeleton recognizer to ONNX (dynamic batch) '
        'and verify it with onnxruntime',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out', help='output .onnx file')
    p.add_argument('--exporter', choices=EXPORTERS, default='auto')
    p.add_argument('--opset', type=int, default=None,
                   help='default: 17 (legacy), torch\'s default (dynamo)')
    p.add_argument('--input-shape', nargs=5, type=int,
                   metavar=('CLIPS', 'M', 'T', 'V', 'C'),
                   help='default: from the test pipeline and the backbone')
    p.add_argument('--tolerance', type=float, default=1e-4,
                   help='fail when the max abs difference exceeds this')
    p.add_argument('--skip-verify', action='store_true',
                   help='do not run onnxruntime')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    model = init_recognizer(args.config, args.checkpoint, 'cpu',
                            args.cfg_options)
    shape = tuple(args.input_shape) if args.input_shape else \
        input_shape_of(model, inference_pipeline_cfg(model.cfg))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    info = export_onnx(model, args.out, shape, args.exporter, args.opset)
    for kind, err in info['errors'].items():
        print(f'{kind} exporter failed ({err}); used {info["exporter"]}')
    print(f'exported {args.out} with the {info["exporter"]} exporter '
          f'(opset {info["opset"]}): '
          f'skeleton (batch, {", ".join(map(str, shape))}) -> scores '
          f'(batch, {model.cls_head.num_classes})', flush=True)
    if args.skip_verify:
        return
    check = verify_onnx(args.out, model, shape)
    print(f'onnxruntime vs PyTorch on random inputs (batch '
          f'{", ".join(map(str, check["batch_sizes"]))}): max abs '
          f'difference {check["max_abs_diff"]:.3g}')
    if check['max_abs_diff'] > args.tolerance:
        sys.exit(f'error: difference above the tolerance {args.tolerance}')


if __name__ == '__main__':
    main()
