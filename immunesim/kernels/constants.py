"""Constants shared by the generated kernels and the Python side: run status codes, the layout
of the statistics vector, scheduled event kinds, the step-size safety factor and the sparse LU's pivot threshold.

A plain module: :mod:`immunesim.status`, :mod:`immunesim.events` and :mod:`immunesim.simulate`
import it, and the code generator copies its text into each model's kernel module (Numba
reads module globals as compile-time constants), so every number is defined once.
"""

# -- run status (returned by every kernel) -----------------------------------
SUCCESS = 0
MAX_STEPS = 1
STEP_UNDERFLOW = 2
NON_FINITE = 3
NEGATIVE_STATE = 4
SINGULAR = 5
TOO_MANY_EVENTS = 6     # state events: more than MAX_PENDING waiting, or a cascade without end
EVENT_FOUND = -1        # internal: a segment stopped where an event trigger changed

# -- layout of the per-run statistics vector ---------------------------------
ST_STEPS = 0        # attempted steps
ST_ACCEPTED = 1
ST_REJECTED = 2
ST_RHS = 3          # right-hand-side evaluations
ST_JAC = 4          # Jacobian evaluations
ST_LU = 5           # factorisations
ST_DENSE_LU = 6     # of which fell back to dense partial pivoting
ST_CLIPPED = 7      # accepted steps on which within-tolerance negatives were clipped to 0
ST_BAD_INDEX = 8    # species index behind a failure (-1 if none)
ST_T_FAIL = 9       # time of a failure (nan if none)
ST_H_FAIL = 10      # step size at a failure
N_STATS = 11

# -- scheduled event kinds ---------------------------------------------------
EV_ADD_SPECIES = 0  # bolus: y[idx] += val
EV_SET_SPECIES = 1  # y[idx] = val
EV_SET_PARAM = 2    # p[idx] = val
EV_ADD_INPUT = 3    # zero-order input rate into species idx: u[idx] += val (infusions)

# -- state events (immunesim.model.Event): the event table (Model.event_layout) ----------
# per event, EVW integers: offsets of its trigger, priority and delay in the event values
# (-1: none), its first assignment and their count, its flags, and where its watched
# comparisons are listed (the table index of the first) and their count; then per assignment
# (EVA integers): target kind (0 species, 1 parameter), target index, offset of its value;
# then the offset of each watched comparison's value (1 or 0). The solver stops where any
# watched comparison changes (the roots a solver like CVODE finds), so a trigger true for a
# moment inside one step is not missed.
EVW = 10
EVA = 3
(EV_TRIG, EV_PRIO, EV_DELAY, EV_FIRST, EV_NASSIGN, EV_PERSISTENT, EV_INITIAL, EV_USE_TRIGGER,
 EV_WFIRST, EV_NWATCH) = range(10)
MAX_PENDING = 1000      # events triggered and waiting for their delay, per run
MAX_CASCADE = 10000     # events executed at one time (one triggering the next)
EVENT_SEED = 20261205   # seeds the choice among events of equal priority (reproducible runs)

SAFETY = 0.9
# The sparse LU's static pivots are accepted while every multiplier stays below this (partial
# pivoting would keep them <= 1); above it the step falls back to dense partial pivoting.
MAX_MULTIPLIER = 1e6
# A species clipped on this many consecutive accepted steps is being driven below zero by the
# model itself (a species that decays to 0 stops being clipped after one step): report it.
MAX_CLIP_RUN = 100
