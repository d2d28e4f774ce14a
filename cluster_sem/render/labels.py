"""Bilingual (en / zh) headings and phrases for the reports, and look-ups of the spec's own labels.

Everything a report says in words comes from :data:`LABELS`; construct labels, item wording and hypothesis
text come from the spec stored in the results document, read once through the typed
``results.document.SpecLabels`` (the functions here keep their document-taking signatures for callers).  ``lang="zh"`` uses the Chinese
text where the spec has it and falls back to English (then to the construct / item id) where it does not.
"""
from __future__ import annotations

from ..results.document import ResultsDocument, SpecLabels, pick

LANGS = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "report": "SEM report",
        "generated": "Generated",
        "contents": "Contents",
        "warnings": "Warnings",
        "warnings_intro": "Read these before interpreting the estimates: the solution may be inadmissible.",
        "model_warning": "{model}: {warning}",
        # sections
        "sec_data": "Study and data",
        "sec_descriptives": "Item descriptives",
        "sec_measurement": "Measurement model",
        "sec_discriminant": "Discriminant validity",
        "sec_cmv": "Common-method check",
        "sec_fit": "Model fit",
        "sec_diagram": "Path diagram",
        "sec_paths": "Structural paths and hypotheses",
        "sec_indirect": "Indirect effects and mediation",
        "sec_bk": "Baron & Kenny steps",
        "sec_repro": "Reproducibility",
        # data
        "source": "Data file",
        "n_raw": "Rows in file",
        "n_used": "Rows analysed (n)",
        "n_dropped": "Rows dropped",
        "estimator": "Estimator",
        "missing": "Missing data",
        "dropped_rows": "Dropped rows",
        "row": "Row",
        "reason": "Reason",
        "dropped_more": "{shown} of {total} dropped rows listed.",
        "data_log": "Data preparation log",
        "missing_per_item": "Missing values per item",
        "no_missing": "No item has missing values.",
        "groups": "Respondents per group",
        "group": "Group",
        "count": "n",
        "percent": "%",
        "total": "Total",
        "controls": "Control variables",
        # descriptives
        "item": "Item",
        "construct": "Construct",
        "wording": "Wording",
        "reverse": "R",
        "reverse_note": "R = reverse-keyed item (recoded before analysis).",
        "mean": "M",
        "sd": "SD",
        "skew": "Skew",
        "kurt": "Kurtosis",
        "min": "Min",
        "max": "Max",
        "pct_missing": "Missing %",
        # measurement
        "loading": "Std. loading",
        "alpha": "α",
        "omega": "ω",
        "ave": "AVE",
        "loadings_table": "Standardized loadings (measurement model)",
        "reliability_table": "Reliability and convergent validity",
        "low_loading_flag": "Loading below .50",
        "low_loading_note": "Items marked ⚑ load below .50 on their construct.",
        "no_low_loading": "All standardized loadings are at least .50.",
        "measurement_note": "α = Cronbach's alpha; ω = composite reliability; AVE = average variance extracted "
                            "(criteria: α and ω ≥ .70, AVE ≥ .50; Fornell & Larcker 1981; Hair et al. 2019).",
        "second_order": "Second-order constructs",
        "second_order_one": "second-order",
        "dimension": "Dimension",
        "below_criterion": "below criterion",
        # discriminant
        "fl_table": "Fornell–Larcker criterion",
        "fl_note": "Diagonal: √AVE (bold); below the diagonal: correlations between constructs. "
                   "Discriminant validity holds when each √AVE exceeds the construct's correlations "
                   "(Fornell & Larcker 1981).",
        "fl_violations": "√AVE not above every correlation for",
        "htmt_table": "Heterotrait–monotrait ratio (HTMT)",
        "htmt_note": "Values above .85 (†) or .90 (‡) suggest a lack of discriminant validity "
                     "(Henseler, Ringle & Sarstedt 2015).",
        "htmt_flags": "Pairs above .85",
        "htmt_none": "No HTMT ratio exceeds .85.",
        # common method
        "harman": "Harman's single-factor test",
        "harman_text": "The first unrotated component explains {share}% of the item variance; "
                       "{nfac} components have an eigenvalue above 1.",
        "harman_ok": "This is below the 50% warning level (Podsakoff et al. 2003).",
        "harman_bad": "This is above the 50% warning level: common-method variance may bias the estimates "
                      "(Podsakoff et al. 2003).",
        # fit
        "index": "Index",
        "measurement_model": "Measurement model (CFA)",
        "structural_model": "Structural model",
        "cutoff": "Cut-off (good / acceptable)",
        "source_cit": "Source",
        "verdict": "Verdict",
        "good": "good",
        "acceptable": "acceptable",
        "poor": "poor",
        "fit_note": "{stat}({df_m}) = {chi_m}, p {p_m} (measurement); {stat}({df_s}) = {chi_s}, p {p_s} (structural). "
                    "{rmsea} 90% CI: {ci_m} and {ci_s}.",
        "ic_note": "AIC = {aic_m} / {aic_s}; BIC = {bic_m} / {bic_s} (measurement / structural).",
        # paths
        "path": "Path",
        "hypothesis": "Hypothesis",
        "b": "b",
        "se": "SE",
        "z": "z",
        "beta": "β",
        "p": "p",
        "result": "Result",
        "supported": "supported",
        "not_supported": "not supported",
        "control": "control",
        "expect": "Expected",
        "positive": "positive",
        "negative": "negative",
        "any": "any sign",
        "hyp_list": "Hypotheses",
        "paths_note": "b = unstandardized coefficient; β = standardized (std.all). A path hypothesis is supported "
                      "when the coefficient has the expected sign and p < .05.",
        "diagram_note": "Standardized coefficients (β); solid arrows p < .05, dashed arrows not significant. "
                        "Control variables are omitted from the diagram.",
        "diagram_caption": "Structural model",
        # indirect
        "effect": "Effect",
        "est": "Estimate",
        "ci": "CI",
        "ci_method": "CI method",
        "std": "Std.",
        "mediation": "Mediation",
        "mediation_type": "Type (Zhao et al. 2010)",
        "direct": "Direct (c′)",
        "total_eff": "Total (c)",
        "full": "full",
        "partial": "partial",
        "none": "none",
        "indirect_note": "{level}% confidence intervals, {method}. An indirect effect is significant when its "
                         "interval excludes zero. Mediation types follow Zhao, Lynch & Chen (2010).",
        "other_cis": "Other intervals available in results.json",
        "total_effects": "Total effects",
        "bootstrap_none": "No bootstrap was run (delta-method standard errors); use --bootstrap 5000 for "
                          "percentile / bias-corrected intervals.",
        "bootstrap_info": "Bootstrap: B = {B} resamples, seed {seed}; {conv} converged, {inadm} inadmissible "
                          "kept (as lavaan does), {excluded} that did not converge excluded.",
        "bootstrap_clusters": "Cluster bootstrap: each resample draws the {G} clusters with replacement and keeps "
                              "all firms of a drawn cluster together (with their sampling weights).",
        "bootstrap_lost": "WLSMV: {lost} of {B} resamples ({share}) were dropped because some item's category had "
                          "no case in the resample (its threshold is undefined; lavaan's refit fails on them too), "
                          "{other} more did not converge; the intervals rest on the {conv} that did. A large share "
                          "means rare answer categories: collapse them with the spec's recode: key.",
        "method_delta": "delta method",
        "method_percentile": "percentile bootstrap",
        "method_bc": "bias-corrected bootstrap",
        "method_monte_carlo": "Monte Carlo",
        # baron kenny
        "step": "Step",
        "condition": "Condition",
        "met": "Met",
        "yes": "yes",
        "no": "no",
        "bk_note": "Baron & Kenny (1986) causal steps, shown for comparison; the mediation verdict above rests on "
                   "the interval of the indirect effect (Zhao et al. 2010), not on these steps.",
        "bk_step1": "X → Y total effect (c) is significant",
        "bk_step2": "X → M (a) is significant",
        "bk_step3": "M → Y controlling for X (b) is significant",
        "bk_step4": "X → Y direct effect (c′) shrinks / is not significant",
        "no_mediation_models": "No simple X → M → Y indirect effects in this model.",
        # repro
        "package_version": "cluster-sem version",
        "seed": "Seed",
        "spec_sha": "Spec SHA-256",
        "data_sha": "Data SHA-256",
        "command": "Command",
        "command_api": "(fitted through the Python API; no command line recorded)",
        "timestamp": "Timestamp",
        "conventions": "Conventions",
        "versions": "Software versions",
        "estimation": "Estimation",
        "repro_note": "Re-render this report from results.json alone with: cluster-sem report DIR",
        # misc
        "stars_legend": "* p < .05, ** p < .01, *** p < .001",
        "table": "Table",
        "figure": "Figure",
        "note": "Note.",
        "constructs_table": "Constructs",
        "content": "Items / dimensions",
        "fit_stats": "χ² tests",
        "model": "Model",
        "syntax": "Model syntax (lavaan)",
        "none_text": "none",
        "references": "References",
    },
    "zh": {
        "report": "结构方程模型报告",
        "generated": "生成时间",
        "contents": "目录",
        "warnings": "警告",
        "warnings_intro": "解读估计值之前请先阅读以下内容：模型解可能不可接受。",
        "model_warning": "{model}：{warning}",
        "sec_data": "研究与数据",
        "sec_descriptives": "题项描述统计",
        "sec_measurement": "测量模型",
        "sec_discriminant": "区分效度",
        "sec_cmv": "共同方法偏差检验",
        "sec_fit": "模型拟合",
        "sec_diagram": "路径图",
        "sec_paths": "结构路径与假设检验",
        "sec_indirect": "间接效应与中介分析",
        "sec_bk": "Baron & Kenny 逐步检验",
        "sec_repro": "可重复性信息",
        "source": "数据文件",
        "n_raw": "文件行数",
        "n_used": "分析样本量（n）",
        "n_dropped": "删除行数",
        "estimator": "估计方法",
        "missing": "缺失值处理",
        "dropped_rows": "被删除的行",
        "row": "行号",
        "reason": "原因",
        "dropped_more": "列出 {total} 个被删除行中的 {shown} 个。",
        "data_log": "数据预处理记录",
        "missing_per_item": "各题项缺失值",
        "no_missing": "所有题项均无缺失值。",
        "groups": "各组样本量",
        "group": "组别",
        "count": "n",
        "percent": "%",
        "total": "合计",
        "controls": "控制变量",
        "item": "题项",
        "construct": "构念",
        "wording": "题项内容",
        "reverse": "反",
        "reverse_note": "反 = 反向计分题项（分析前已重新编码）。",
        "mean": "均值",
        "sd": "标准差",
        "skew": "偏度",
        "kurt": "峰度",
        "min": "最小值",
        "max": "最大值",
        "pct_missing": "缺失 %",
        "loading": "标准化载荷",
        "alpha": "α",
        "omega": "ω",
        "ave": "AVE",
        "loadings_table": "标准化因子载荷（测量模型）",
        "reliability_table": "信度与收敛效度",
        "low_loading_flag": "载荷低于 .50",
        "low_loading_note": "标有 ⚑ 的题项在其构念上的载荷低于 .50。",
        "no_low_loading": "所有标准化载荷均不低于 .50。",
        "measurement_note": "α = Cronbach's α 系数；ω = 组合信度；AVE = 平均方差提取量"
                            "（标准：α 与 ω ≥ .70，AVE ≥ .50；Fornell & Larcker 1981；Hair et al. 2019）。",
        "second_order": "二阶构念",
        "second_order_one": "二阶",
        "dimension": "维度",
        "below_criterion": "低于标准",
        "fl_table": "Fornell–Larcker 准则",
        "fl_note": "对角线为 √AVE（粗体），对角线以下为构念间相关系数。"
                   "当每个构念的 √AVE 大于其与其他构念的相关系数时，区分效度成立（Fornell & Larcker 1981）。",
        "fl_violations": "√AVE 未超过全部相关系数的构念",
        "htmt_table": "异质–单质比率（HTMT）",
        "htmt_note": "大于 .85（†）或 .90（‡）表示区分效度可能不足（Henseler, Ringle & Sarstedt 2015）。",
        "htmt_flags": "大于 .85 的构念对",
        "htmt_none": "所有 HTMT 比率均不超过 .85。",
        "harman": "Harman 单因素检验",
        "harman_text": "第一个未旋转成分解释了 {share}% 的题项方差；特征值大于 1 的成分共 {nfac} 个。",
        "harman_ok": "低于 50% 的警戒水平（Podsakoff et al. 2003）。",
        "harman_bad": "高于 50% 的警戒水平：共同方法偏差可能影响估计结果（Podsakoff et al. 2003）。",
        "index": "指标",
        "measurement_model": "测量模型（CFA）",
        "structural_model": "结构模型",
        "cutoff": "临界值（良好 / 可接受）",
        "source_cit": "文献",
        "verdict": "评价",
        "good": "良好",
        "acceptable": "可接受",
        "poor": "较差",
        "fit_note": "{stat}({df_m}) = {chi_m}，p {p_m}（测量模型）；{stat}({df_s}) = {chi_s}，p {p_s}（结构模型）。"
                    "{rmsea} 90% 置信区间：{ci_m} 与 {ci_s}。",
        "ic_note": "AIC = {aic_m} / {aic_s}；BIC = {bic_m} / {bic_s}（测量模型 / 结构模型）。",
        "path": "路径",
        "hypothesis": "假设",
        "b": "b",
        "se": "SE",
        "z": "z",
        "beta": "β",
        "p": "p",
        "result": "结果",
        "supported": "支持",
        "not_supported": "不支持",
        "control": "控制变量",
        "expect": "预期方向",
        "positive": "正向",
        "negative": "负向",
        "any": "不限",
        "hyp_list": "研究假设",
        "paths_note": "b = 非标准化系数；β = 标准化系数（std.all）。当系数方向符合预期且 p < .05 时，路径假设得到支持。",
        "diagram_note": "标准化系数（β）；实线箭头 p < .05，虚线箭头不显著。图中省略了控制变量。",
        "diagram_caption": "结构模型",
        "effect": "效应",
        "est": "估计值",
        "ci": "置信区间",
        "ci_method": "区间方法",
        "std": "标准化",
        "mediation": "中介",
        "mediation_type": "类型（Zhao et al. 2010）",
        "direct": "直接效应（c′）",
        "total_eff": "总效应（c）",
        "full": "完全中介",
        "partial": "部分中介",
        "none": "无中介",
        "indirect_note": "{level}% 置信区间，{method}。区间不包含零时间接效应显著。"
                         "中介类型依据 Zhao, Lynch & Chen (2010)。",
        "other_cis": "results.json 中的其他区间",
        "total_effects": "总效应",
        "bootstrap_none": "未进行 Bootstrap（使用 delta 法标准误）；可使用 --bootstrap 5000 获得百分位 / 偏差校正区间。",
        "bootstrap_info": "Bootstrap：B = {B} 次重抽样，种子 {seed}；{conv} 次收敛，保留 {inadm} 个不可接受解"
                          "（与 lavaan 相同），排除 {excluded} 次未收敛的重抽样。",
        "bootstrap_clusters": "整群 Bootstrap：每次重抽样有放回地抽取 {G} 个集群，被抽中集群的全部企业（连同其抽样权重）一起进入样本。",
        "bootstrap_lost": "WLSMV：{B} 次重抽样中有 {lost} 次（{share}）因某题项的某一类别在该样本中无人选择而被剔除"
                          "（其阈值无定义；lavaan 的重新拟合同样会失败），另有 {other} 次未收敛；区间基于收敛的 {conv} 次。"
                          "比例较高说明存在罕见的回答类别：可用规格文件的 recode: 合并类别。",
        "method_delta": "delta 法",
        "method_percentile": "百分位 Bootstrap",
        "method_bc": "偏差校正 Bootstrap",
        "method_monte_carlo": "蒙特卡洛法",
        "step": "步骤",
        "condition": "条件",
        "met": "满足",
        "yes": "是",
        "no": "否",
        "bk_note": "Baron & Kenny (1986) 逐步检验仅供对照；上文的中介结论依据间接效应的置信区间（Zhao et al. 2010），"
                   "而非这些步骤。",
        "bk_step1": "X → Y 总效应（c）显著",
        "bk_step2": "X → M（a）显著",
        "bk_step3": "控制 X 后 M → Y（b）显著",
        "bk_step4": "X → Y 直接效应（c′）减小 / 不显著",
        "no_mediation_models": "本模型没有简单的 X → M → Y 间接效应。",
        "package_version": "cluster-sem 版本",
        "seed": "随机种子",
        "spec_sha": "问卷规格 SHA-256",
        "data_sha": "数据 SHA-256",
        "command": "命令",
        "command_api": "（通过 Python API 拟合；未记录命令行）",
        "timestamp": "时间戳",
        "conventions": "约定",
        "versions": "软件版本",
        "estimation": "估计过程",
        "repro_note": "仅凭 results.json 即可重新生成本报告：cluster-sem report DIR",
        "stars_legend": "* p < .05，** p < .01，*** p < .001",
        "table": "表",
        "figure": "图",
        "note": "注：",
        "constructs_table": "构念",
        "content": "题项 / 维度",
        "fit_stats": "χ² 检验",
        "model": "模型",
        "syntax": "模型语法（lavaan）",
        "none_text": "无",
        "references": "参考文献",
    },
}

# Plain-text citations (no links: the report must not contain any URL).
REFERENCES = [
    "Baron, R. M., & Kenny, D. A. (1986). The moderator–mediator variable distinction in social psychological "
    "research. Journal of Personality and Social Psychology, 51(6), 1173–1182.",
    "Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In K. A. Bollen & J. S. Long "
    "(Eds.), Testing structural equation models (pp. 136–162). Sage.",
    "Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable variables "
    "and measurement error. Journal of Marketing Research, 18(1), 39–50.",
    "Hair, J. F., Black, W. C., Babin, B. J., & Anderson, R. E. (2019). Multivariate data analysis (8th ed.). "
    "Cengage.",
    "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant validity in "
    "variance-based structural equation modeling. Journal of the Academy of Marketing Science, 43(1), 115–135.",
    "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure analysis. "
    "Structural Equation Modeling, 6(1), 1–55.",
    "Kline, R. B. (2016). Principles and practice of structural equation modeling (4th ed.). Guilford.",
    "Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method biases in "
    "behavioral research. Journal of Applied Psychology, 88(5), 879–903.",
    "Zhao, X., Lynch, J. G., & Chen, Q. (2010). Reconsidering Baron and Kenny: Myths and truths about mediation "
    "analysis. Journal of Consumer Research, 37(2), 197–206.",
]


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def phrase(key: str, lang: str = "en", **kw) -> str:
    """The heading / phrase ``key`` in ``lang`` (English if the zh dictionary lacks it)."""
    text = LABELS.get(lang, {}).get(key) or LABELS["en"].get(key) or key
    return text.format(**kw) if kw else text


def translator(lang: str):
    """``t(key, **kw)`` bound to one language, for the templates."""
    check_lang(lang)
    return lambda key, **kw: phrase(key, lang, **kw)


def _spec(doc: dict) -> SpecLabels:
    return SpecLabels.of(doc.get("spec"))


def construct_label(doc: dict, name: str, lang: str = "en") -> str:
    """The spec's label of a construct in ``lang``; the construct id if it has none."""
    return _spec(doc).construct_label(name, lang)


def item_index(doc: dict) -> dict[str, dict]:
    """item id → {construct, text {en, zh}, reverse} from the spec (items may be strings or dicts)."""
    return {i.item: {"construct": i.construct, "text": i.text, "reverse": i.reverse} for i in _spec(doc).items.values()}


def hypothesis_text(doc: dict, hid: str | None, lang: str = "en") -> str:
    return _spec(doc).hypothesis_text(hid, lang)


def indirect_label(doc: dict, name: str, lang: str = "en") -> str:
    return _spec(doc).indirect_label(name, lang)


def report_title(r: ResultsDocument, lang: str = "en") -> str:
    """The run's title (else the spec's) in ``lang``; the generic report heading when there is none."""
    return pick(r.meta.title or r.spec.title, lang, "") or phrase("report", lang)


def title(doc: dict, lang: str = "en") -> str:
    return report_title(ResultsDocument.read(doc), lang)


__all__ = ["LABELS", "LANGS", "REFERENCES", "check_lang", "phrase", "translator", "pick", "construct_label",
           "item_index", "hypothesis_text", "indirect_label", "title", "report_title"]


def _merge_ordinal_labels() -> None:
    from .ordinal_labels import ORDINAL_LABELS
    for lang, phrases in ORDINAL_LABELS.items():
        LABELS[lang].update(phrases)


_merge_ordinal_labels()
