"""The sections of a program file, key by key (the schema's body; see workflows.rule_schema)."""

from __future__ import annotations

from workflows.attribute_tests import DATE_KINDS
from workflows.evidence import DOCUMENT_KINDS
from workflows.facts import CLASSIFICATIONS, SECURITY_TYPES
from workflows.flows import STAGE_NAMES
from workflows.gates import USE_CASES
from workflows.rule_model import (
    APPLICATION_CADENCES,
    BAND_MEASURES,
    BREAKER_ACTIONS,
    BREAKER_METRICS,
    DAY_COUNTS,
    FEE_KINDS,
    INSTITUTION_KINDS,
    INTEREST_BASES,
    KINDS,
    REGISTERED_YEAR_BASES,
    REVIEW_ROLES,
    SETTLEMENT_PERIODS,
    SPLIT_POLICIES,
)
from workflows.rule_schema import RANGE, TIER, K, Section

CLAIMS = ("risk_pool", "guarantee_fund")
SUBSIDIES = ("interest_subsidy", "fee_subsidy")

SECTIONS = (
    Section("program", False, "What the program is and which dates govern it.", (
        K("code", "string", "the program's code; must equal its directory name", required=True),
        K("version", "string", "the version; must equal the file name without .toml", required=True),
        K("kind", "choice", "what the program pays", required=True, choices=KINDS),
        K("name", "string", "the published name (Chinese)", required=True),
        K("effective_from", "date", "first day this version is in force", required=True),
        K("effective_to", "date", "last day this version is in force (open when absent)"),
        K("source", "string", "the published document and articles this version follows", required=True),
        K("governing_date", "choice", "the date that picks the version in force", required=True, choices=DATE_KINDS),
        K("governing", "table", "the governing date per use case, where it differs", keys=tuple(
            K(use, "choice", f"the date that picks the version for {use}", choices=kinds) for use, kinds in USE_CASES.items())),
        K("settlement_period", "choice", "how often statements are settled", default="quarter", choices=SETTLEMENT_PERIODS),
        K("assumed", "strings", "keys whose figures are ours, not published (each must exist in the file)"),
        K("notes", "string", "free text"),
    ), example='[program]\ncode = "demo-any-uplift"\nversion = "2024.1"\nkind = "risk_pool"\nname = "示例"\n'
                'effective_from = 2024-01-01\nsource = "文件名 第九条"\ngoverning_date = "disbursement"'),
    Section("budget", False, "The program's annual budget; with it the budget is a cap unless caps.program_budget = false.", (
        K("annual", "map", "fiscal year (\"2025\") = budget in yuan", value_type="amount"),
        K("default_annual", "amount", "the budget of any year not listed"),
    ), example='[budget]\nannual = { 2025 = "100000000.00" }\ndefault_annual = "80000000.00"'),
    Section("registration", False, "Limits on loans entering the program.", (
        K("window", "window", "how long after disbursement a loan may be registered"),
        K("min_principal", "amount", "smallest principal"),
        K("max_principal", "amount", "largest principal (unless a principal_limits entry matches first)"),
        K("max_term_months", "integer", "longest term"),
        K("security_types", "strings", "the security types taken", choices=tuple(sorted(SECURITY_TYPES))),
        K("one_bank_per_firm_per_year", "boolean", "a firm borrows under the program from one bank a year", default="false"),
        K("exclude_double_coverage", "boolean", "refuse loans another program already covers", default="false"),
        K("principal_limits", "tables", "a maximum principal for loans meeting a condition (first match wins)", keys=(
            K("name", "string", "the limit's name in refusals", required=True),
            K("when", "condition", "which loans it is for", required=True),
            K("max_principal", "amount", "their largest principal", required=True),
        )),
    ), kinds=CLAIMS, example='[registration]\nwindow = { months = 3 }\nmax_principal = "5000000.00"'),
    Section("enterprise", False, "Conditions on the borrowing firm, checked at registration and application.", (
        K("lists_any", "strings", "the firm must be on one of these lists on the list_on date"),
        K("list_on", "choice", "the date list membership is checked on", default="disbursement", choices=DATE_KINDS),
        K("max_revenue", "amount", "revenue ceiling"),
        K("excluded_industries", "strings", "industry code prefixes refused (GB/T 4754, e.g. \"K\")"),
        K("when", "condition", "any further condition the firm and loan must meet"),
    ), kinds=(*CLAIMS, *SUBSIDIES), example='[enterprise]\nlists_any = ["high_tech"]\nexcluded_industries = ["K"]'),
    Section("claim", False, "When a defaulted loan may be claimed, and until when.", (
        K("trigger_days_overdue", "integer", "days overdue that trigger a claim"),
        K("trigger_classifications", "strings", "loan classifications that trigger a claim", choices=CLASSIFICATIONS),
        K("trigger_lawsuit", "boolean", "an accepted lawsuit triggers a claim", default="false"),
        K("window", "window", "how long after the trigger a claim may be filed"),
    ), kinds=CLAIMS, example='[claim]\ntrigger_days_overdue = 90\nwindow = { months = 6 }'),
    Section("compensation", False, "How a loss becomes a payout ratio.", (
        K("loss_base", "choice", "what the ratio applies to", default="principal",
          choices=("principal", "principal_and_interest")),
        K("interest_day_cap", "integer", "days of unpaid interest counted (with principal_and_interest)"),
        K("base_ratio", "ratio", "a flat base ratio (or give bands)"),
        K("band_by", "choice", "what the bands (tiers) are by", choices=BAND_MEASURES),
        K("bands", "tables", "base ratios by range; the first band that applies wins; a loan in none is paid nothing", keys=(
            K("ratio", "ratio", "the base ratio", required=True), *RANGE,
            K("when", "condition", "a further condition for this band"),
            K("label", "string", "the band's published name"),
        )),
        K("combine", "choice", "uplifts add points, or the highest ratio wins", default="add", choices=("add", "max")),
        K("uplifts", "tables", "raised ratios for loans meeting a condition, each counted once", keys=(
            K("name", "string", "the uplift's name in the trace", required=True),
            K("label", "string", "the uplift's published name"),
            K("when", "condition", "who gets it", required=True),
            K("add", "ratio", "points added (combine = \"add\")"),
            K("ratio", "ratio", "the ratio it raises to (combine = \"max\")"),
        )),
        K("ceiling", "ratio", "the highest ratio after uplifts", required=True),
        K("payer_party", "string", "the party the program pays as", default="program"),
        K("split_policy", "choice", "how a guarantee fund's loss is split over the risk shares to the fen",
          default="program_floored", choices=SPLIT_POLICIES),
    ), kinds=CLAIMS, example='[compensation]\nband_by = "unsecured_share"\nceiling = "0.50"\n\n'
                             '[[compensation.bands]]\nmore_than = "0.50"\nless_than = "0.70"\nratio = "0.30"\n\n'
                             '[[compensation.uplifts]]\nname = "key_firm_or_ip"\nadd = "0.10"\n'
                             'when = { any = [ { list = "city_key_firm" }, { security_types = ["ip_pledge"] } ] }'),
    Section("risk_shares", True, "A guarantee fund's parties and the share of each loss each bears.", (
        K("party", "string", "the party", required=True),
        K("share", "ratio", "its share; all shares sum to 1", required=True),
        K("program", "boolean", "the party this program pays for (exactly one)", default="false"),
        K("label", "string", "the party's name"),
    ), kinds=("guarantee_fund",), example='[[risk_shares]]\nparty = "guarantee_fund"\nshare = "0.40"\nprogram = true'),
    Section("caps", False, "Amount caps; the program budget binds when there is a [budget].", (
        K("per_loan", "amount", "most paid on one loan"),
        K("per_enterprise_year", "amount", "most paid for one firm in a fiscal year"),
        K("per_enterprise_lifetime", "amount", "most paid for one firm in all"),
        K("per_institution_year", "amount", "most paid to one institution in a fiscal year"),
        K("per_institution_year_share_of_registered", "ratio", "share of the principal the institution registered this year"),
        K("per_institution_year_share_of_prior_balance", "ratio",
          "share of the institution's balance outstanding on 1 January (loans repaid before then not counted)"),
        K("share_of_registered_year", "choice", "which year's registered principal the share-of-registered cap counts: "
          "the claim's year, or the year the claimed loan was registered in", default="claim_year",
          choices=REGISTERED_YEAR_BASES),
        K("program_budget", "boolean", "the remaining budget is a cap", default="true when there is a [budget]"),
    ), kinds=CLAIMS, example='[caps]\nper_loan = "3000000.00"'),
    Section("breakers", True, "Circuit breakers that hold an institution when a metric passes a threshold.", (
        K("metric", "choice", "what is measured", required=True, choices=BREAKER_METRICS),
        K("threshold", "ratio", "the level that trips it", required=True),
        K("action", "choice", "what it holds", required=True, choices=BREAKER_ACTIONS),
        K("label", "string", "the published wording"),
    ), kinds=(*CLAIMS, "reward"), example='[[breakers]]\nmetric = "loss_ratio"\nthreshold = "0.05"\naction = "defer_claims"'),
    Section("review", False, "The review stages a claim or application passes.", (
        K("stages", "tables", "the stages in order: first_review[, second_review[, third_review]][, payment]",
          required=True, keys=(
            K("name", "choice", "the stage", required=True, choices=STAGE_NAMES),
            K("role", "choice", "who acts", required=True, choices=REVIEW_ROLES),
            K("sla_working_days", "integer", "working days allowed", required=True),
            K("label", "string", "the stage's published name"),
        )),
        K("separation_of_duties", "strings", "the stages that must each be taken by a different person",
          default="every stage", choices=STAGE_NAMES),
    ), example='[[review.stages]]\nname = "first_review"\nrole = "reviewer"\nsla_working_days = 5'),
    Section("interest", False, "How an interest subsidy is computed, pro-rated by the day count.", (
        K("basis", "choice", "what the subsidy is of", required=True, choices=INTEREST_BASES),
        K("share", "ratio", "share of interest paid or of LPR (interest_paid, lpr_share)"),
        K("rate", "ratio", "points paid on principal (fixed_rate)"),
        K("borrower_pays_up_to_lpr_minus_bp", "integer", "the borrower's rate, LPR minus bp (lpr_excess)"),
        K("rate_ceiling_lpr_plus_bp", "integer", "interest above LPR plus bp does not count"),
        K("lpr_tenor", "choice", "which LPR", default="1y", choices=("1y", "5y")),
        K("lpr_fixing", "choice", "the LPR of the disbursement date, or each day's", default="disbursement",
          choices=("disbursement", "daily")),
        K("day_count", "choice", "how the period is pro-rated", default="actual/actual", choices=DAY_COUNTS),
        K("current_loans_only", "boolean", "no subsidy on overdue or extended loans", default="true"),
        K("annual_cap", "amount", "most paid to a firm a year under this program"),
        K("tiers", "tables", "raised shares or rates (the highest that applies wins)", keys=TIER),
    ), kinds=("interest_subsidy",), example='[interest]\nbasis = "fixed_rate"\nrate = "0.01"\nday_count = "actual/360"'),
    Section("fee", False, "Subsidies on guarantee fees and insurance premiums.", (
        K("kinds", "tables", "one entry per fee kind", required=True, keys=(
            K("kind", "choice", "the fee", required=True, choices=FEE_KINDS),
            K("share", "ratio", "share of the fee paid", required=True),
            K("annual_cap", "amount", "most paid to a firm a year"),
            K("tiers", "tables", "raised shares", keys=TIER),
            K("label", "string", "published name"),
        )),
    ), kinds=("fee_subsidy",), example='[[fee.kinds]]\nkind = "guarantee_fee"\nshare = "0.50"'),
    Section("subsidy_caps", False, "Per-firm caps across all subsidy programs.", (
        K("per_firm_year", "amount", "most paid to a firm a year, all subsidies"),
        K("per_firm_lifetime", "amount", "most paid to a firm in all"),
    ), kinds=SUBSIDIES, example='[subsidy_caps]\nper_firm_year = "1000000.00"'),
    Section("reward", False, "Institution rewards on new business.", (
        K("rates", "tables", "one rate per institution kind", required=True, keys=(
            K("institution_kind", "choice", "who earns it", required=True, choices=INSTITUTION_KINDS),
            K("basis", "choice", "on what", required=True, choices=("loans_issued", "amount_underwritten", "amount_guaranteed")),
            K("rate", "ratio", "the rate", required=True),
            K("label", "string", "published name"),
        )),
        K("per_institution_year_cap", "amount", "most paid to one institution a year"),
    ), kinds=("reward",), example='[[reward.rates]]\ninstitution_kind = "bank"\nbasis = "loans_issued"\nrate = "0.005"'),
    Section("application", False, "When applications for a period are taken: by cadence, or in published dated windows.", (
        K("cadence", "choice", "calendar periods applied for (not with windows)", choices=APPLICATION_CADENCES),
        K("opens_days_after_period_end", "integer", "days after the period end before applications open", default="0"),
        K("window", "window", "how long after the period end applications are taken (not with windows)"),
        K("windows", "tables", "published windows, one per period", keys=(
            K("period_start", "date", "first day of the period applied for", required=True),
            K("period_end", "date", "last day of the period applied for", required=True),
            K("opens_on", "date", "first day applications are taken", required=True),
            K("closes_on", "date", "last day applications are taken", required=True),
            K("label", "string", "published name"),
        )),
    ), kinds=(*SUBSIDIES, "reward"), example='[[application.windows]]\nperiod_start = 2024-01-01\nperiod_end = 2024-12-31\n'
                                           'opens_on = 2025-03-01\ncloses_on = 2025-04-30'),
    Section("gates", True, "Conditions every loan must meet, refused with the gate's label where they fail.", (
        K("name", "string", "the gate's name (the refusal's field is gates.<name>)", required=True),
        K("label", "string", "what the refusal says (Chinese)", required=True),
        K("when", "condition", "the condition to pass (or tier_applies)"),
        K("tier_applies", "boolean", "pass only when one of the program's tiers applies", default="false"),
        K("at", "strings", "the use cases it is checked at", default="all", choices=tuple(USE_CASES)),
    ), example='[[gates]]\nname = "a_tier_applies"\nlabel = "信用贷款占比须超过50%"\ntier_applies = true'),
    Section("lists", True, "Enterprise lists this program declares (stored when the program is published).", (
        K("code", "string", "the list's code, as conditions name it (lower-case)", required=True),
        K("label", "string", "the list's name (Chinese)", required=True),
        K("issuer", "string", "who issues it", required=True),
        K("valid_for_months", "integer", "how long an entry stays valid unless renewed"),
        K("revocable", "boolean", "entries may be revoked with a date and reason", default="true"),
        K("source", "string", "the document establishing the list"),
    ), example='[[lists]]\ncode = "zone_whitelist"\nlabel = "园区科技企业白名单"\nissuer = "园区管委会"'),
    Section("documents", False, "The documents a claim or application must carry before it is submitted.", (
        K("required", "tables", "one line per required document", required=True, keys=(
            K("kind", "choice", "one document kind (or give kinds)", choices=tuple(sorted(DOCUMENT_KINDS))),
            K("kinds", "strings", "any one of several kinds satisfies the line", choices=tuple(sorted(DOCUMENT_KINDS))),
            K("count", "integer", "how many files of the kind", default="1"),
            K("label", "string", "the checklist's label (Chinese)"),
            K("when", "table", "only when this holds", keys=(
                K("lawsuit", "boolean", "the claim declares a lawsuit (claims only)"),
                K("fee_kind", "choice", "the fee kind applied for (fee_subsidy only)",
                  choices=("guarantee_fee", "insurance_premium")),
            )),
        )),
    ), example='[[documents.required]]\nkind = "claim_form"\n[[documents.required]]\nkind = "court_document"\n'
                'when = { lawsuit = true }'),
    Section("correction", False, "How long a returned item may be corrected, and when the institution is reminded.", (
        K("working_days", "integer", "working days to correct before the item is closed as withdrawn"),
        K("remind_working_days_before", "integer", "working days before the close the reminder is sent"),
    ), example='[correction]\nworking_days = 20\nremind_working_days_before = 2'),
)
