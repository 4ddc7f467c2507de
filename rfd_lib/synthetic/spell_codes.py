"""What each kind of synthetic spell is coded as: the kinds, and the pools their codes are drawn from.

A pool is a list of codes with their weights (None for equal). The MBB, RFD and facet injection
codes are those of the field notes; the rest are plausible codes of the right shape for a fixture,
chosen so that no V48[57] appears by accident. Shared by the pathways
(:mod:`rfd_lib.synthetic.pathways`), the extract set (:mod:`rfd_lib.synthetic.extract_set`) and
the SUS+ columns that render them (:mod:`rfd_lib.synthetic.sus_columns`).
"""

from __future__ import annotations

Pool = tuple[list[str | None], list[float] | None]

# Kinds of spell. A pathway (MBB -> RFD -> repeat RFD) is built from the first three.
MBB, RFD, FJI, EPIDURAL, OTHER_DENERVATION, BACK_PAIN, BACK_SURGERY, NOISE = range(8)

INJECTIONS = (MBB, RFD, FJI, EPIDURAL, OTHER_DENERVATION)

# Primary procedure by kind (OPCS-4, no dot). MBB, RFD and FJI codes are those of the field notes;
# the rest are illustrative codes of the right shape, chosen so that no V48[57] appears by accident.
PRIMARY_PROCEDURE: tuple[Pool, ...] = (
    (["A577", "A735"], [0.6, 0.4]),  # medial branch block
    (["V485", "V487"], [0.7, 0.3]),  # radiofrequency denervation: the rule's V48[57]
    (["V544"], None),  # facet joint injection
    (["A521", "A522", "A528", "A529"], [0.35, 0.45, 0.1, 0.1]),  # epidural and other spinal injections
    (["V481", "V482", "V483", "V484", "V488"], None),  # V48 codes the rule does not count
    ([None, "U051", "U211"], [0.8, 0.1, 0.1]),  # back-pain admission: mostly no procedure
    (["V331", "V338", "V382", "V254"], [0.4, 0.2, 0.25, 0.15]),  # back surgery
    (["W401", "W371", "H229", "T201", "K559", "Q074", "W821", "C751", "J183", "X481", "E481"], None),
)

# Site codes after the primary procedure: lumbar (the rule's Z67[567] / Z993), missing, upper spine.
LUMBAR, NOT_LUMBAR, NO_SITE, UPPER_SPINE = range(4)

SITE: tuple[Pool, ...] = (
    (["Z675", "Z676", "Z677", "Z993"], [0.3, 0.3, 0.2, 0.2]),
    ([None, "Z671", "Z672"], [0.7, 0.15, 0.15]),
    ([None], None),
    (["Z671", "Z672", "Z673", "Z674"], None),
)

LATERALITY: Pool = (["Z941", "Z942", "Z943"], [0.6, 0.2, 0.2])

IMAGING: Pool = (["Y534"], None)

SECOND_EPISODE: Pool = (["X998", "U051", "Y534", "A529", "Z676"], None)

# Primary diagnosis by kind of diagnosis (ICD-10, no dot, three-character codes X-padded).
BACK_LIST, BACK_OFF_LIST, BACK_MISCODED, BACK_ADMISSION, SPINE_SURGERY, NECK, UNRELATED = range(7)

DIAGNOSIS: tuple[Pool, ...] = (
    (["M545", "M549", "M512", "M518", "M519", "M5450"], [0.5, 0.12, 0.08, 0.08, 0.07, 0.15]),  # rule's list
    (["M479", "M478", "M471", "M544", "M511"], [0.35, 0.25, 0.1, 0.2, 0.1]),  # plausible, off the list
    (["M478", "M533", "M479", "M539", "M549"], [0.35, 0.3, 0.15, 0.1, 0.1]),  # the bad coder's habits
    (["M545", "M544", "M511", "M549", "M4806", "M5450"], [0.4, 0.2, 0.15, 0.1, 0.1, 0.05]),
    (["M511", "M4806", "M512", "M431"], [0.4, 0.3, 0.1, 0.2]),
    (["M542", "M479", "M4782"], [0.6, 0.3, 0.1]),
    (["H251", "I10X", "K802", "M170", "M161", "N390", "J181", "S7200", "R104", "K358", "I209"], None),
)

COMORBIDITY: Pool = (["I10X", "E119", "J459", "F329", "E669", "K219", "G473", "M797", "Z864", "F419"], None)

# Cancer co-diagnoses: C00-C97, D00-D09 and D37-D48, the rule's exclusions.
CANCER: Pool = (["C509", "C61X", "C189", "C349", "D051", "D090", "D374", "D410", "D473", "D489"], None)

ELECTIVE, EMERGENCY, MATERNITY, TRANSFER = range(4)

ADMISSION_METHOD: tuple[Pool, ...] = (
    (["11", "12", "13"], [0.6, 0.36, 0.04]),
    (
        ["21", "22", "23", "24", "25", "2A", "2B", "2C", "2D"],
        [0.55, 0.18, 0.02, 0.06, 0.01, 0.06, 0.07, 0.005, 0.045],
    ),
    (["31", "32"], [0.6, 0.4]),
    (["81"], None),
)

NHS, PRIVATE, OTHER_CATEGORY = range(3)

ADMINISTRATIVE_CATEGORY: tuple[Pool, ...] = ((["01"], None), (["02"], None), (["03", "04"], [0.7, 0.3]))

EPISODE_SEPARATORS: Pool = (["||", " ||"], [0.8, 0.2])
