"""The generic kernels' data layouts, without Numba: the tape's op codes and packed header
(:mod:`.tape_eval`) and the sparse-LU program's sections (:mod:`.lu_program`).

They live here so that building a tape or a program (:mod:`immunesim.codegen.tape`,
:mod:`immunesim.codegen.sparse_lu`) does not import Numba: a single run on the ahead-of-time
compiled generic kernels never needs it (README, "Kernels: what compiles when"). The kernels
import them from here; the kernel cache's keys cover this file.
"""

# -- the tape's op codes (tape_eval) ----------------------------------------------------
OP_CONST, OP_Y, OP_P, OP_T = 0, 1, 2, 3
OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG = 4, 5, 6, 7, 8
OP_POW, OP_POWI, OP_EXP, OP_LOG, OP_SQRT, OP_ABS = 9, 10, 11, 12, 13, 14
OP_MIN, OP_MAX = 15, 16
OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE = 17, 18, 19, 20, 21, 22
OP_AND, OP_OR, OP_NOT, OP_SELECT = 23, 24, 25, 26
OP_FN = 27          # an elementary function of register a; which one is b (FN_* below)
N_OPS = 28
# -- the elementary functions of OP_FN (immunesim.model.expr.ELEMENTARY, in its order) ---------
FN_SIN, FN_COS, FN_TAN, FN_ASIN, FN_ACOS, FN_ATAN = 0, 1, 2, 3, 4, 5
FN_SINH, FN_COSH, FN_TANH, FN_ASINH, FN_ACOSH, FN_ATANH = 6, 7, 8, 9, 10, 11
FN_FLOOR, FN_CEIL, FN_FACTORIAL = 12, 13, 14
#: functions whose derivative is 0 (constant between jumps)
FN_STEPS = (FN_FLOOR, FN_CEIL, FN_FACTORIAL)

# -- the tape packed behind the parameters: the header's fields (tape_eval) ---------------
HEADER = 40
(H_NP, H_N, H_NREG, H_NINSTR, H_NRULES, H_NNZ, H_NCOLORS, H_TDEP, H_REG, H_TAN, H_YDOT,
 H_CODE, H_CONSTS, H_NCONSTS, H_RHS, H_OBS, H_JROW, H_JCOL, H_JCOLOR, H_SEEDS, H_NONNEG,
 H_LU, H_NLU, H_NPRE, H_TAN1, H_PFLAG, H_TPTR, H_TCOL, H_DPTR, H_DCOL, H_NTCOL,
 H_NDCOL, H_EVREG, H_EVTAB, H_NEV, H_NEVV, H_NEVTAB) = range(37)

# -- the sparse-LU program's header and sections (lu_program) ----------------------------
(P_N, P_NNZW, P_NJ, O_PERM, O_DIAG, O_JSLOT, O_LPTR, O_LSLOT, O_UPTR, O_UTGT, O_USRC,
 O_FPTR, O_FSLOT, O_FCOL, O_BPTR, O_BSLOT, O_BCOL) = range(17)
P_HEAD = 17

# -- a composed model's parameter vector (immunesim.codegen.compose): after the base's own
# parameters, a header of C_HEADER numbers (sizes and offsets into the vector), integer arrays
# stored bit for bit in float slots, scratch arrays, then the driver's parameters and its tape
(C_K0, C_NK, C_NF, C_NKR, C_NNZK, C_NC, C_NT, C_NJ, C_NWK, C_NOBSK, C_OWK, C_OWC,
 C_INP, C_KR, C_CROW, C_CCOL, C_TQ, C_TE, C_TM, C_JROW, C_JCOL,
 C_YE, C_UE, C_DYE, C_JVK, C_DFDI, C_BD, C_OBSK, C_LUK, C_NLUK) = range(30)
C_HEADER = 30
#: the integer arrays, in the order of Composition.pack's
C_INTS = (C_INP, C_KR, C_CROW, C_CCOL, C_TQ, C_TE, C_TM, C_JROW, C_JCOL, C_LUK)
#: the scratch arrays, in the order of Composition.pack's
C_FLOATS = (C_YE, C_UE, C_DYE, C_JVK, C_DFDI, C_BD, C_OBSK)
