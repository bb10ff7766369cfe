"""Class names of the datasets the converters write, by label.

NTU RGB+D action names A1-A120 as the dataset lists them (NTU60 is the
first 60); NW-UCLA's ten actions in label order (action ids 1, 2, 3, 4, 5,
6, 8, 9, 11, 12); PKU-MMD's 51 actions by action id (label = id - 1, Part I
and Part II alike). The converters store them as the pickle's ``classes``;
:class:`~mmskelcl.datasets.SkeletonDataset` puts them in its metainfo, so
checkpoints, ``tools/infer.py`` and the reports show names.
``python -m mmskelcl.datasets.class_names NAME`` prints one name a line (a
``--label-map`` file).
"""
import sys
from typing import Any, List, Optional, Sequence

NWUCLA_CLASSES = (
    'pick up with one hand', 'pick up with two hands', 'drop trash',
    'walk around', 'sit down', 'stand up', 'donning', 'doffing', 'throw',
    'carry')

NTU120_CLASSES = (
    'drink water',
    'eat meal/snack',
    'brushing teeth',
    'brushing hair',
    'drop',
    'pickup',
    'throw',
    'sitting down',
    'standing up (from sitting position)',
    'clapping',
    'reading',
    'writing',
    'tear up paper',
    'wear jacket',
    'take off jacket',
    'wear a shoe',
    'take off a shoe',
    'wear on glasses',
    'take off glasses',
    'put on a hat/cap',
    'take off a hat/cap',
    'cheer up',
    'hand waving',
    'kicking something',
    'reach into pocket',
    'hopping (one foot jumping)',
    'jump up',
    'make a phone call/answer phone',
    'playing with phone/tablet',
    'typing on a keyboard',
    'pointing to something with finger',
    'taking a selfie',
    'check time (from watch)',
    'rub two hands together',
    'nod head/bow',
    'shake head',
    'wipe face',
    'salute',
    'put the palms together',
    'cross hands in front (say stop)',
    'sneeze/cough',
    'staggering',
    'falling',
    'touch head (headache)',
    'touch chest (stomachache/heart pain)',
    'touch back (backache)',
    'touch neck (neckache)',
    'nausea or vomiting condition',
    'use a fan (with hand or paper)/feeling warm',
    'punching/slapping other person',
    'kicking other person',
    'pushing other person',
    'pat on back of other person',
    'point finger at the other person',
    'hugging other person',
    'giving something to other person',
    "touch other person's pocket",
    'handshaking',
    'walking towards each other',
    'walking apart from each other',
    'put on headphone',
    'take off headphone',
    'shoot at the basket',
    'bounce ball',
    'tennis bat swing',
    'juggling table tennis balls',
    'hush (quite)',
    'flick hair',
    'thumb up',
    'thumb down',
    'make ok sign',
    'make victory sign',
    'staple book',
    'counting money',
    'cutting nails',
    'cutting paper (using scissors)',
    'snapping fingers',
    'open bottle',
    'sniff (smell)',
    'squat down',
    'toss a coin',
    'fold paper',
    'ball up paper',
    'play magic cube',
    'apply cream on face',
    'apply cream on hand back',
    'put on bag',
    'take off bag',
    'put something into a bag',
    'take something out of a bag',
    'open a box',
    'move heavy objects',
    'shake fist',
    'throw up cap/hat',
    'hands up (both hands)',
    'cross arms',
    'arm circles',
    'arm swings',
    'running on the spot',
    'butt kicks (kick backward)',
    'cross toe touch',
    'side kick',
    'yawn',
    'stretch oneself',
    'blow nose',
    'hit other person with something',
    'wield knife towards other person',
    'knock over other person (hit with body)',
    "grab other person's stuff",
    'shoot at other person with a gun',
    'step on foot',
    'high-five',
    'cheers and drink',
    'carry something with other person',
    'take a photo of other person',
    'follow other person',
    "whisper in other person's ear",
    'exchange things with other person',
    'support somebody with hand',
    'finger-guessing game (playing rock-paper-scissors)',
)
NTU60_CLASSES = NTU120_CLASSES[:60]

# PKU-MMD action ids 1-51 of the Label/*.txt files (the release's
# Actions.xlsx names them). Neither that workbook nor the paper's table was
# read here: the order (alphabetical) is the one three independent public
# repositories give (kschlegel/DatasetLoader datasetloader/pkummd.py,
# HanchaoLiu/Recover-and-Resample gendata/gendata_pku.py with explicit ids,
# and an online-detection project's PKU-MMD label strings), and two more
# place the two-person actions at ids 12, 14, 16, 18, 21, 24, 26, 27
# (handshaking and the "... other person" names). Part II labels use the
# same ids; its 41 classes leave out ten ids (those eight, 29 and 38), as
# two of these repositories state; not checked against the release.
PKUMMD_CLASSES = (
    'bow',
    'brushing hair',
    'brushing teeth',
    'check time (from watch)',
    'cheer up',
    'clapping',
    'cross hands in front (say stop)',
    'drink water',
    'drop',
    'eat meal/snack',
    'falling',
    'giving something to other person',
    'hand waving',
    'handshaking',
    'hopping (one foot jumping)',
    'hugging other person',
    'jump up',
    'kicking other person',
    'kicking something',
    'make a phone call/answer phone',
    'pat on back of other person',
    'pickup',
    'playing with phone/tablet',
    'point finger at the other person',
    'pointing to something with finger',
    'punching/slapping other person',
    'pushing other person',
    'put on a hat/cap',
    'put something inside pocket',
    'reading',
    'rub two hands together',
    'salute',
    'sitting down',
    'standing up',
    'take off a hat/cap',
    'take off glasses',
    'take off jacket',
    'take out something from pocket',
    'taking a selfie',
    'tear up paper',
    'throw',
    'touch back (backache)',
    'touch chest (stomachache/heart pain)',
    'touch head (headache)',
    'touch neck (neckache)',
    'typing on a keyboard',
    'use a fan (with hand or paper)/feeling warm',
    'wear jacket',
    'wear on glasses',
    'wipe face',
    'writing',
)

LABEL_MAPS = dict(nwucla=NWUCLA_CLASSES, ntu60=NTU60_CLASSES,
                  ntu120=NTU120_CLASSES, pkummd=PKUMMD_CLASSES)


def class_names(classes: Any) -> Optional[List[str]]:
    """Names from a pickle's ``classes`` entry: a list of names, or of dicts
    with a ``name`` (the FineGym converter's); None when absent."""
    if not isinstance(classes, Sequence) or isinstance(classes, str) \
            or not classes:
        return None
    return [str(c['name']) if isinstance(c, dict) else str(c)
            for c in classes]


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the label map ``argv[0]`` (one of :data:`LABEL_MAPS`), one name
    a line: line ``k`` names label ``k - 1``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) != 1 or argv[0] not in LABEL_MAPS:
        sys.exit(f'usage: python -m mmskelcl.datasets.class_names '
                 f'{{{",".join(LABEL_MAPS)}}}')
    print('\n'.join(LABEL_MAPS[argv[0]]))


if __name__ == '__main__':
    main()
