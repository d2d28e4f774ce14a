import json, pandas as pd, numpy as np, time
from cluster_sem.model.fitted import fit_model
G=json.load(open('tests/reference/lavaan_reference_groups.json'))
d=pd.read_csv('tests/reference/HolzingerSwineford1939.csv')
meas='visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n'
eqs={'configural':(),'metric':('loadings',),'scalar':('loadings','intercepts'),'strict':('loadings','intercepts','residuals')}
for lvl,eq in eqs.items():
    t=time.time()
    f=fit_model(meas, d, group='school', groups=['Pasteur','Grant-White'], group_equal=eq, estimator='MLR')
    ref=G['invariance_MLR'][lvl]
    fm={k.replace('chisq','chi2').replace('.','_'):v for k,v in ref['fit'].items()}
    bad={k:(v,f.fit.get(k)) for k,v in fm.items() if k in f.fit and v is not None and abs(f.fit[k]-v)>1e-3*max(1,abs(v))}
    P=f.parameters; worst=0; wse=0
    for r in ref['params']:
        m=P[(P.lhs==r['lhs'])&(P.op==r['op'])&(P.rhs==r['rhs'])&(P.group==['Pasteur','Grant-White'][r['group']-1])]
        if len(m)!=1: continue
        worst=max(worst,abs(m.iloc[0].est-r['est'])); wse=max(wse,abs(m.iloc[0].se-r['se']))
    print(lvl, round(time.time()-t,1), 'bad fit', bad, 'worst est/se', worst, wse)
