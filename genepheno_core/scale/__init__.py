"""Work over many blocks, in this process or on Ray: batch prediction and embedding of large
FASTA files (`predict`/`embed --engine ray`), and the benchmark grid on a cluster
(`benchmark --engine ray`). `runtime` connects to Ray (a local instance sized to this machine,
or an existing cluster) with the GenePheno environment the workers need."""
