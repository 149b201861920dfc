"""Staff password policy: a minimum length and zxcvbn's estimate against common and context passwords."""
from __future__ import annotations

from zxcvbn import zxcvbn

from claims.errors import Unprocessable

# Words an attacker tries first against this platform's accounts, whatever the user's own details.
CONTEXT_WORDS = ("claims", "caizheng", "czj", "finance", "bureau", "buchang", "daichang", "shenzhen")
# zxcvbn spends its time on the first characters; longer input adds nothing to the estimate.
_ZXCVBN_MAX = 100


def check_password(password: str, *, min_length: int, min_score: int, context: tuple[str, ...] = ()) -> None:
    """Refuse a password shorter than min_length or that zxcvbn scores below min_score (422 weak_password)."""
    reasons: list[str] = []
    if len(password) < min_length:
        reasons.append(f"at least {min_length} characters")
    else:
        result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[*CONTEXT_WORDS, *(c for c in context if c)])
        if result["score"] < min_score:
            warning = result["feedback"].get("warning") or "too easy to guess"
            reasons.append(f"too easy to guess (strength {result['score']} of 4, need {min_score}): {warning}")
    if reasons:
        raise Unprocessable("密码强度不足 — the password is too weak: " + "; ".join(reasons) + ".",
                            code="weak_password", errors={"password": reasons})
