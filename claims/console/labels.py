"""Chinese labels for what the console shows: states, actions, roles, stages, refusal codes."""
from __future__ import annotations

STATES = {
    "draft": "草稿", "submitted": "已提交", "first_review": "初审中", "returned": "退回补正",
    "second_review": "复审中", "third_review": "终审中", "approved": "已批准待拨付", "paid": "已拨付", "rejected": "不予补偿",
    "withdrawn": "已撤回", "deferred": "熔断暂缓",
}
ACTIONS = {
    "submit": "提交", "start_review": "开始初审", "return": "退回补正", "resubmit": "补正后重新提交",
    "pass": "初审通过", "approve": "复审批准", "reject": "不予补偿", "revoke": "撤销批准", "pay": "拨付",
    "withdraw": "撤回", "defer": "熔断暂缓", "hold": "熔断暂缓审批", "resume": "恢复受理", "close_uncorrected": "逾期未补正视为撤回",
    "filed": "登记申请", "corrected": "补正", "recovery_reported": "报告追偿",
}
ROLES = {"reviewer": "初审员", "approver": "复审员", "payer": "拨付员", "admin": "管理员", "auditor": "审计员",
         "institution": "合作机构", "system": "系统"}
STAGES = {"first_review": "初审", "second_review": "复审", "third_review": "终审", "payment": "拨付"}
KINDS = {"interest_subsidy": "贴息", "fee_subsidy": "保费/担保费补贴", "reward": "奖励"}
JOBS = {"period_statements": "出具上一期结算单", "sla_sweep": "审核时限巡检", "breaker_evaluation": "熔断指标评估",
        "budget_snapshot": "预算日快照（含账户余额核对）", "webhook_delivery": "推送事件通知（Webhook）",
        "deadline_reminders": "补正到期提醒", "audit_checkpoint": "审计链与账户余额校验、签署检查点",
        "simulation_runs": "续跑政策模拟"}
JOB_STATUS = {"running": "运行中", "done": "完成", "failed": "失败", "skipped": "跳过（另一运行持有锁）",
              "abandoned": "中断"}

# Every refusal the services give, in plain Chinese; an unknown code still shows with the service's own text.
REFUSALS = {
    "four_eyes": "四眼原则：复审人不得是做初审的同一人。",
    "separation_of_duties": "职责分离：同一人不得在同一笔申请上担任两个环节。",
    "role_not_allowed": "您的角色不能执行此操作。",
    "role_required": "您的角色不能执行此操作。",
    "illegal_transition": "该申请当前状态下不能执行此操作（可能已被他人处理）。",
    "reason_required": "此操作需要填写理由。",
    "amount_above_computed": "批准金额不得高于系统核定金额。",
    "amount_changed": "核定金额已变化（其他申请已占用限额或预算）：请核对新的金额，确认后再批准。",
    "budget_exceeded": "本年度预算可用余额不足，无法预留该金额。",
    "cap_exhausted": "相关限额已用尽，无法再批准；如不予补偿请填写理由驳回。",
    "database_busy": "系统正忙（另一笔写入正在进行），请稍后重试。",
    "transition_refused": "此操作未通过规则检查。",
    "nothing_payable": "本笔没有可支付金额。",
    "breaker_holds": "该合作机构处于熔断暂缓期，申请不能推进。",
    "precondition_failed": "此页已过期：在您打开后该记录已被修改。",
    "csrf_failed": "表单已失效（缺少或错误的防伪令牌），请刷新页面后重试。",
    "invalid_credentials": "用户名或密码错误。",
    "not_found": "没有找到该记录（或您无权查看）。",
    "no_budget": "该计划本年度没有预算。",
    "job_running": "该任务的另一次运行尚未结束。",
    "reason_too_long": "理由过长。",
    "amount_invalid": "金额格式不正确：请输入元，最多两位小数。",
    "simulation_running": "该计划已有一次模拟在运行：请等待其完成或先取消。",
    "simulation_range_invalid": "历史区间的截止日早于起始日。",
}


def state(code: str | None) -> str:
    """A state's Chinese label."""
    return STATES.get(code or "", code or "—")


def action(code: str) -> str:
    """An action's Chinese label."""
    return ACTIONS.get(code, code)


def refusal(code: str, detail: str = "") -> str:
    """A refusal in plain Chinese (the service's own detail when the code has no label yet)."""
    return REFUSALS.get(code, detail or code)

SECURITY = {"unsecured": "信用", "ip_pledge": "知识产权质押", "guaranteed": "保证", "insured": "保证保险",
            "collateral": "抵押", "pledge": "质押", "mixed": "组合担保"}
SIZES = {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}
