import json, time, sys
import numpy as np, pandas as pd
from cluster_sem.model.fitted_casewise import fit_model_casewise
R=json.load(open('tests/reference/lavaan_reference.json'))
G=json.load(open('/work/shared/reference/lavaan_reference_groups.json'))
hs=R['hs_cfa']['model']
dm=pd.read_csv('tests/reference/HolzingerSwineford1939_missing.csv')
dc=pd.read_csv('tests/reference/HolzingerSwineford1939.csv')
def cmp(name, ref, f):
    fm={k.replace('chisq','chi2').replace('.','_'):v for k,v in ref['fit'].items()}
    for k,v in fm.items():
        mine = f.fit.get(k if k!='ntotal' else 'n')
        if k=='rmsea_ci_lower': mine=f.fit['rmsea_ci90'][0]
        if k=='rmsea_ci_upper': mine=f.fit['rmsea_ci90'][1]
        print(f"  {k:22s} ref {v:.6f} mine {mine if mine is None else round(mine,6)}")
    P=f.parameters
    worst=[0,0,0]
    for r in ref['params']:
        m=P[(P.lhs==r['lhs'])&(P.op==r['op'])&(P.rhs==r['rhs'])]
        if m.empty: print('  missing row',r); continue
        m=m.iloc[0]
        for i,k in enumerate(['est','se','std.all']):
            worst[i]=max(worst[i],abs(m[k.replace('.','_')]-r[k]))
    print('  rows', len(P), len(ref['params']), 'worst est/se/std', worst)
t=time.time(); f=fit_model_casewise(hs, dm, missing='fiml'); print('hs_fiml', time.time()-t); cmp('hs_fiml',R['hs_fiml'],f)
t=time.time(); f=fit_model_casewise(hs, dc, missing='listwise', estimator='MLR'); print('hs_mlr', time.time()-t); cmp('hs_mlr',R['hs_mlr'],f)
t=time.time(); f=fit_model_casewise(hs, dm, missing='fiml', estimator='MLR'); print('hs_fiml_mlr', time.time()-t); cmp('x',G['hs_fiml_mlr'],f)
