"""PLS-SEM beside the CB-SEM core (``cluster-sem pls``): the same questionnaire spec estimated as a PLS path
model (seminr 2.3.1 conventions), consistent PLS, batched bootstrap, PLSpredict and PLS-MGA.

    model = from_spec(spec)                                     # model.PathModel: items, blocks, modes, paths
    est = estimate(correlations(X)[None], model)                # estimate.Estimates of R = 1 sample
    results = run_pls("spec.yaml", "data.csv", PlsOptions(bootstrap=5000, seed=1))   # frozen Results

Modules: ``model`` (the path model of a spec), ``algorithm`` (the batched Wold/Lohmöller iterations on
correlation matrices), ``estimate`` (PLS/PLSc estimates), ``quality`` (α, ρ_C, AVE, HTMT, VIF, f²),
``statistics`` (what is reported, as one vector per replicate), ``bootstrap``, ``predict``, ``mga``, ``run``
(the ``pls`` document).
"""
