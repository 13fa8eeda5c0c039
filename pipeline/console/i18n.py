"""The console's message catalog: Japanese first, English second. Pure.

Keys are dotted names; a key missing in English falls back to Japanese, and a key missing in
both shows itself (a test checks that every key used exists in both languages).
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("ja", "en")

CATALOG: Final[dict[str, dict[str, str]]] = {
    "ja": {
        "app.title": "見守り パトロール",
        "nav.queues": "キュー", "nav.escalated": "エスカレーション案件",
        "nav.decisions": "判定の見直し", "nav.users": "アカウント", "nav.stats": "担当者別統計",
        "nav.audit": "監査ログ", "nav.logout": "ログアウト", "nav.settings": "設定",
        "login.title": "ログイン", "login.username": "ユーザー名", "login.password": "パスワード",
        "login.submit": "ログイン", "login.failed": "ユーザー名またはパスワードが違います。",
        "login.throttled": "ログインの失敗が続いたため、しばらく時間をおいてください。",
        "queues.title": "キュー", "queues.queue": "キュー", "queues.depth": "件数",
        "queues.oldest": "最古の経過時間", "queues.sla": "目標時間", "queues.overdue": "超過",
        "queues.next": "次の案件", "queues.next_any": "次の案件を取得",
        "queues.empty": "対象の案件はありません。", "queues.filter": "絞り込み",
        "queues.site": "サイト", "queues.category": "カテゴリ", "queues.all": "すべて",
        "queue.urgent": "緊急", "queue.standard": "通常", "queue.reports": "ユーザー通報",
        "queue.escalated": "エスカレーション",
        "case.title": "案件", "case.site": "サイト", "case.user": "投稿者", "case.post": "投稿",
        "case.queue": "キュー", "case.priority": "優先度", "case.reporters": "通報者数",
        "case.status": "状態", "case.lease": "担当期限", "case.hits": "検出語句",
        "case.span": "該当箇所", "case.term": "語句", "case.mode": "種別",
        "case.category": "カテゴリ", "case.reports": "通報", "case.report_category": "通報理由",
        "case.comment": "コメント", "case.received": "受信", "case.history": "投稿者の履歴",
        "case.earlier": "過去の案件", "case.actions": "措置と違反", "case.decisions": "判定",
        "case.no_history": "履歴はありません。", "case.view_only": "閲覧のみ（担当していません）",
        "case.note": "メモ（任意）", "case.duration": "停止期間", "case.release": "キューに戻す",
        "case.decide": "判定", "case.shortcuts": "キー操作: 入力欄の外で1キー。日本語入力の変換中は反応しません。",
        "case.lease_lapsed": "担当期限が切れました。案件はキューに戻りました。",
        "case.text_empty": "（投稿本文なし）", "case.reveal": "表示する",
        "decision.approve": "承認（問題なし）", "decision.delete": "投稿削除",
        "decision.warn": "警告", "decision.suspend": "一定期間の利用停止",
        "decision.expel": "強制退会", "decision.escalate": "リーダーへエスカレーション",
        "status.open": "未処理", "status.escalated": "エスカレーション中",
        "status.decided": "判定済み",
        "duration.86400": "1日", "duration.259200": "3日", "duration.604800": "7日",
        "duration.2592000": "30日",
        "lead.escalated": "エスカレーション案件", "lead.claim": "次のエスカレーション案件",
        "lead.decisions": "最近の判定", "lead.overturn": "判定を覆す",
        "lead.reason": "理由（必須）", "lead.overturned": "覆された判定",
        "lead.reviewer": "担当者", "lead.decided_at": "判定日時",
        "chief.users": "アカウント", "chief.add": "アカウントを追加", "chief.role": "役割",
        "chief.sites": "担当サイト（カンマ区切り、* はすべて）", "chief.disable": "無効にする",
        "chief.enable": "有効にする", "chief.reset": "パスワードを再設定",
        "chief.change": "役割とサイトを変更", "chief.disabled": "無効",
        "chief.new_password": "新しいパスワード（10文字以上）",
        "stats.title": "担当者別統計（30日）", "stats.claimed": "取得件数",
        "stats.decisions": "判定件数", "stats.mean": "平均判定時間",
        "stats.median": "判定時間の中央値", "stats.overturn_rate": "覆された割合",
        "audit.title": "監査ログ", "audit.time": "日時", "audit.actor": "実行者",
        "audit.action": "操作", "audit.case": "案件", "audit.target": "対象",
        "audit.detail": "詳細", "audit.csv": "CSVで書き出す",
        "settings.mask": "一覧で攻撃的な語句を隠す", "settings.language": "言語",
        "settings.save": "保存",
        "role.staff": "パトロールスタッフ", "role.lead": "パトロールリーダー",
        "role.chief": "パトロール責任者",
        "error.title": "エラー", "error.forbidden": "この操作の権限がありません。",
        "error.not_found": "見つかりません。",
        "error.not_held": "この案件を担当していません（期限切れか、他の担当者が取得しました）。",
        "error.csrf": "フォームの有効期限が切れました。ページを読み込み直してください。",
        "error.decision": "判定が正しくありません。", "error.duration": "停止期間が正しくありません。",
        "error.note_too_long": "メモが長すぎます。",
        "error.already_escalated": "この案件はすでにエスカレーションされています。",
        "error.reason_required": "覆す理由を入力してください。",
        "error.cannot_overturn": "この判定は覆せません。",
        "error.no_such_decision": "判定が見つかりません。",
        "error.username": "ユーザー名は半角英数字と . _ - の64文字以内です。",
        "error.username_taken": "このユーザー名は使われています。",
        "error.role": "役割が正しくありません。",
        "error.password_short": "パスワードは10文字以上にしてください。",
        "error.password_long": "パスワードが長すぎます。",
        "error.no_such_user": "アカウントが見つかりません。",
        "error.sites": "自分の担当外のサイトは割り当てられません。",
        "done.saved": "保存しました。", "done.overturned": "判定を覆しました。",
        "done.decided": "判定を記録しました。",
        "common.back": "戻る", "common.none": "なし", "common.seconds": "秒",
    },
    "en": {
        "app.title": "mimamori patrol",
        "nav.queues": "Queues", "nav.escalated": "Escalated cases",
        "nav.decisions": "Review decisions", "nav.users": "Accounts",
        "nav.stats": "Reviewer statistics", "nav.audit": "Audit log", "nav.logout": "Log out",
        "nav.settings": "Settings",
        "login.title": "Log in", "login.username": "User name", "login.password": "Password",
        "login.submit": "Log in", "login.failed": "Wrong user name or password.",
        "login.throttled": "Too many failed logins; please wait a while.",
        "queues.title": "Queues", "queues.queue": "Queue", "queues.depth": "Cases",
        "queues.oldest": "Oldest", "queues.sla": "SLA", "queues.overdue": "overdue",
        "queues.next": "Next case", "queues.next_any": "Claim the next case",
        "queues.empty": "No case to work.", "queues.filter": "Filter",
        "queues.site": "Site", "queues.category": "Category", "queues.all": "all",
        "queue.urgent": "Urgent", "queue.standard": "Standard", "queue.reports": "User reports",
        "queue.escalated": "Escalated",
        "case.title": "Case", "case.site": "Site", "case.user": "Author", "case.post": "Post",
        "case.queue": "Queue", "case.priority": "Priority", "case.reporters": "Reporters",
        "case.status": "Status", "case.lease": "Held until", "case.hits": "Matches",
        "case.span": "As written", "case.term": "Term", "case.mode": "Mode",
        "case.category": "Category", "case.reports": "Reports",
        "case.report_category": "Reason", "case.comment": "Comment",
        "case.received": "Received", "case.history": "Author's history",
        "case.earlier": "Earlier cases", "case.actions": "Actions and strikes",
        "case.decisions": "Decisions", "case.no_history": "No history.",
        "case.view_only": "View only (you do not hold this case)",
        "case.note": "Note (optional)", "case.duration": "Suspension",
        "case.release": "Return to the queue", "case.decide": "Decide",
        "case.shortcuts": "Keys: one key outside text fields; ignored while an input method "
                          "is composing.",
        "case.lease_lapsed": "Your lease lapsed; the case went back to its queue.",
        "case.text_empty": "(no post text)", "case.reveal": "Reveal",
        "decision.approve": "Approve (keep)", "decision.delete": "Delete the post",
        "decision.warn": "Warn", "decision.suspend": "Suspend",
        "decision.expel": "Expel", "decision.escalate": "Escalate to a lead",
        "status.open": "open", "status.escalated": "escalated", "status.decided": "decided",
        "duration.86400": "1 day", "duration.259200": "3 days", "duration.604800": "7 days",
        "duration.2592000": "30 days",
        "lead.escalated": "Escalated cases", "lead.claim": "Next escalated case",
        "lead.decisions": "Recent decisions", "lead.overturn": "Overturn",
        "lead.reason": "Reason (required)", "lead.overturned": "overturned",
        "lead.reviewer": "Reviewer", "lead.decided_at": "Decided at",
        "chief.users": "Accounts", "chief.add": "Add an account", "chief.role": "Role",
        "chief.sites": "Sites (comma-separated, * for all)", "chief.disable": "Disable",
        "chief.enable": "Enable", "chief.reset": "Reset password",
        "chief.change": "Change role and sites", "chief.disabled": "disabled",
        "chief.new_password": "New password (10 characters or more)",
        "stats.title": "Reviewer statistics (30 days)", "stats.claimed": "Claimed",
        "stats.decisions": "Decisions", "stats.mean": "Mean time to decision",
        "stats.median": "Median time to decision", "stats.overturn_rate": "Overturn rate",
        "audit.title": "Audit log", "audit.time": "Time", "audit.actor": "Actor",
        "audit.action": "Action", "audit.case": "Case", "audit.target": "Target",
        "audit.detail": "Detail", "audit.csv": "Export CSV",
        "settings.mask": "Mask abusive words in lists", "settings.language": "Language",
        "settings.save": "Save",
        "role.staff": "Patrol staff", "role.lead": "Patrol lead", "role.chief": "Chief",
        "error.title": "Error", "error.forbidden": "You may not do this.",
        "error.not_found": "Not found.",
        "error.not_held": "You do not hold this case (the lease lapsed or another reviewer "
                          "took it).",
        "error.csrf": "The form expired. Reload the page.",
        "error.decision": "Not a valid decision.", "error.duration": "Not a valid duration.",
        "error.note_too_long": "The note is too long.",
        "error.already_escalated": "This case is escalated already.",
        "error.reason_required": "Give a reason for the overturn.",
        "error.cannot_overturn": "This decision cannot be overturned.",
        "error.no_such_decision": "No such decision.",
        "error.username": "User names are up to 64 ASCII letters, digits, '.', '_', '-'.",
        "error.username_taken": "This user name is taken.",
        "error.role": "Not a role.", "error.password_short": "Use 10 characters or more.",
        "error.password_long": "The password is too long.",
        "error.no_such_user": "No such account.",
        "error.sites": "You cannot assign sites outside your own.",
        "done.saved": "Saved.", "done.overturned": "Decision overturned.",
        "done.decided": "Decision recorded.",
        "common.back": "Back", "common.none": "none", "common.seconds": "s",
    },
}


def translate(language: str, key: str) -> str:
    """The text of `key` in `language` (Japanese when missing; the key itself as a last
    resort, so a missing entry is visible rather than blank)."""
    table = CATALOG.get(language, CATALOG["ja"])
    return table.get(key) or CATALOG["ja"].get(key) or key


def age_text(seconds: float | None, language: str) -> str:
    """A short age: 45s, 12m, 3h 5m, 2d 4h (the same in both languages, digits and units)."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s" if language == "en" else f"{s}秒"
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if language == "en":
        if s < 3600:
            return f"{minutes}m"
        if s < 86400:
            return f"{hours}h {minutes % 60}m"
        return f"{days}d {hours % 24}h"
    if s < 3600:
        return f"{minutes}分"
    if s < 86400:
        return f"{hours}時間{minutes % 60}分"
    return f"{days}日{hours % 24}時間"
