"""SQLModel tables, one module per aggregate; importing this package registers them all."""
from claims.models.application import Application
from claims.models.audit import AuditEvent
from claims.models.claim import Claim, Decision, Recovery
from claims.models.document import Document
from claims.models.enterprise import Enterprise, EnterpriseAttribute, EnterpriseCategory, Individual, ListMembership
from claims.models.idempotency import IdempotencyKey
from claims.models.institution import ApiKey, Institution
from claims.models.ledger import LedgerAccount, LedgerEntry, LedgerPosting
from claims.models.loan import Loan
from claims.models.payment import BudgetAdjustment, PaymentBatch, PaymentLine, PayeeAccount, RecoveryReceipt
from claims.models.lpr import LprRate
from claims.models.program import Admission, BudgetYear, Program, RuleChange, RuleVersion
from claims.models.statement import JobRun, Statement
from claims.models.user import User

__all__ = [
    "Admission", "ApiKey", "Application", "AuditEvent", "BudgetAdjustment", "BudgetYear", "Claim", "Decision",
    "Document", "Enterprise", "EnterpriseAttribute", "EnterpriseCategory", "IdempotencyKey", "Individual",
    "Institution", "JobRun", "LedgerAccount", "LedgerEntry", "LedgerPosting", "ListMembership", "Loan", "LprRate",
    "PayeeAccount", "PaymentBatch", "PaymentLine", "Program", "Recovery", "RecoveryReceipt", "RuleChange",
    "RuleVersion",
    "Statement", "User",
]
