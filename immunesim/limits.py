"""Every bound immunesim puts on its inputs, in one place (the README's "What immunesim promises"
lists them with these values).

A bound exists so that no input, mistaken or hostile, can make a command take unbounded memory or
time: each is far above what a real model, scenario or trial needs, and each is checked before the
work it bounds starts, with an error naming the field, the value given and the limit.
"""

from __future__ import annotations

# -- files ---------------------------------------------------------------------------------
#: largest YAML file read (model, scenario), bytes
MAX_YAML_BYTES = 8 * 1024 * 1024
#: deepest nesting of YAML collections
MAX_YAML_DEPTH = 64
#: YAML nodes after expanding every alias (a "billion laughs" file expands past this)
MAX_YAML_NODES = 1_000_000

# -- expressions (rate laws, rules) --------------------------------------------------------
#: characters in one expression
MAX_EXPRESSION_CHARS = 20_000
#: nesting depth of one expression (a chain of + or * counts once, as does a run of unary signs)
MAX_EXPRESSION_DEPTH = 64
#: arguments of one min(), max() or piecewise()
MAX_FUNCTION_ARGS = 64
#: a power of two numbers is computed in floating point unless its exponent is an integer of at
#: most this magnitude (then exactly)
MAX_EXACT_POWER = 64
#: seconds of symbolic work (SymPy: substitution, Jacobian, time derivative) for one model
SYMBOLIC_BUDGET_S = 120.0

# -- units ---------------------------------------------------------------------------------
#: characters in a unit string ("mg/kg", "1/day")
MAX_UNIT_CHARS = 64
#: factors in a unit string
MAX_UNIT_FACTORS = 12
#: magnitude of an exponent in a unit string ("cm**3")
MAX_UNIT_POWER = 8

# -- doses, times, sizes -------------------------------------------------------------------
#: doses one regimen (or one simulation block) may expand to
MAX_DOSES = 50_000
#: the largest single dose, mg (and mg/kg)
MAX_DOSE_MG = 1.0e6
#: output time points of one run
MAX_OUTPUT_POINTS = 1_000_000
#: longest simulated time span, days (a century: a lifetime with room to spare)
MAX_DAYS = 36_525.0
#: patients in one population (a trial streams them in chunks)
MAX_POPULATION = 10_000_000
#: values one trial chunk may hold in memory (patients x arms x times x variables)
MAX_CHUNK_VALUES = 2_000_000_000 // 8
#: arms of one trial or comparison, including those a regimen search generates
MAX_ARMS = 1000
#: steps one integration may take (solver.max_steps)
MAX_STEPS = 10_000_000
#: solver tolerances: rtol in [RTOL_MIN, RTOL_MAX) (1 would accept any step), atol in
#: [ATOL_MIN, ATOL_MAX] in each species' unit (loose values serve convergence-order tests)
RTOL_MIN, RTOL_MAX = 1e-14, 1.0
ATOL_MIN, ATOL_MAX = 1e-20, 1e6
#: decision times of one treat-to-target rule checked periodically (every ...)
MAX_DECISIONS = 10_000
#: lattice sites of one tissue patch (4000 x 4000: about 3.5 GB with its agents and fields)
MAX_TISSUE_SITES = 16_000_000
#: tissue steps of one run (five years at the default 1-minute step is 2.6 million)
MAX_TISSUE_STEPS = 5_000_000
#: lattice snapshots (one PNG each) of one run
MAX_SNAPSHOTS = 2_000
