"""Facts about a mail that a pattern cannot see on its own: who it claims to be, whose domain it imitates,
whose SNS topic delivered it, whether its attachments are dangerous. Rules in `rules/` name these facts
(`signals = [...]`); the word lists they use (brands, free-mail domains, extensions…) are data too.

This module computes facts only; it never decides a kind.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from triage.authenticate import Authenticity, organizational_domain
from triage.entities import Entities
from triage.lookalike import imitates, skeleton
from triage.mail import Mail

# Every signal a rule may name, with what it means (shown by `triage explain` and checked at load).
SIGNALS: dict[str, str] = {
    "aws-sender": "the From domain is one of AWS's domains",
    "aws-genuine": "from an AWS domain, not failing authentication, and not a message relayed by an SNS topic",
    "claims-aws": "speaks as AWS: display name, salutation, sign-off, footer or logo",
    "claims-aws-name": "the display name claims to be AWS or Amazon",
    "account-threat": "threatens the AWS account or asks to verify it (suspension, lock, verification)",
    "lookalike-sender": "the From domain imitates an AWS domain",
    "lookalike-reply-to": "a Reply-To domain imitates an AWS domain",
    "lookalike-link": "a link points to a domain that imitates an AWS domain",
    "foreign-link": "a link points neither to AWS nor to the sender's own domain",
    "dangerous-attachment": "an attachment can run code or is disguised (.exe, .html, .iso, double extension)",
    "freemail-reply-to": "replies go to a free-mail address, not to the sender's domain",
    "freemail-sender": "the From address is at a free-mail provider",
    "sns": "relayed by Amazon SNS: the words are the topic owner's, not AWS's",
    "sns-owned-topic": "relayed by an SNS topic in one of the owner's accounts ([aws] account_ids, or known)",
    "sns-foreign-topic": "relayed by an SNS topic in an account that is not the owner's",
    "sns-callback-scam": "an SNS topic or display name that is a callback scam (two of: phone number, amount, "
                         "refund/cancel), or a stranger's topic whose message carries all three",
    "callback-scam": "asks to phone a number about a charge: a phone number, an amount and refund/cancel words",
    "device-code-request": "asks to enter a code on AWS's device authorization page (device-code phishing)",
    "amount-over-alert": "an amount above [billing] statement_alert_usd",
    "newsletter": "carries mailing-list headers (List-Unsubscribe, List-Id)",
    "forwarded": "forwards another mail (Fwd: subject, forwarded-message marker)",
}


@dataclass(frozen=True)
class Lexicon:
    """The word lists behind the signals; from `[lexicon]` tables in the rules files."""

    brands: tuple[str, ...] = ()
    glue_words: tuple[str, ...] = ()
    claim_names: tuple[re.Pattern[str], ...] = ()
    claim_text: tuple[re.Pattern[str], ...] = ()
    claim_html: tuple[re.Pattern[str], ...] = ()
    account_threats: tuple[re.Pattern[str], ...] = ()
    freemail_domains: tuple[str, ...] = ()
    dangerous_extensions: tuple[str, ...] = ()
    document_extensions: tuple[str, ...] = ()
    sns_senders: tuple[str, ...] = ()
    sns_default_names: tuple[str, ...] = ()
    sns_footer: tuple[re.Pattern[str], ...] = ()
    newsletter_headers: tuple[str, ...] = ()
    forward_markers: tuple[re.Pattern[str], ...] = ()
    callback_phone: tuple[re.Pattern[str], ...] = ()
    callback_amount: tuple[re.Pattern[str], ...] = ()
    callback_words: tuple[re.Pattern[str], ...] = ()
    device_auth_pages: tuple[re.Pattern[str], ...] = ()
    device_codes: tuple[re.Pattern[str], ...] = ()
    account_teaching_kinds: tuple[str, ...] = ()  # kinds whose authenticated AWS mail teaches the owner's accounts


@dataclass(frozen=True)
class Signals:
    names: frozenset[str] = frozenset()
    evidence: tuple[str, ...] = ()  # one line per signal: why it is set
    sns_topic: str = ""  # ARN of the delivering topic (or of the confirmed one), when SNS relayed the mail
    content: str = field(default="", repr=False)  # the words to classify (an SNS mail without its footer)


def compute_signals(
    mail: Mail,
    authenticity: Authenticity,
    entities: Entities,
    lexicon: Lexicon,
    aws_domains: tuple[str, ...],
    *,
    owner_account_ids: tuple[str, ...] = (),
    known_accounts: Mapping[str, str] | None = None,
    statement_alert_usd: float = 100.0,
    jpy_per_usd: float = 150.0,
) -> Signals:
    """`owner_account_ids`: the owner's accounts; `known_accounts`: where the learned ones among them came
    from (account → one line), for the evidence."""
    known_accounts = known_accounts or {}
    found: dict[str, str] = {}

    def within_aws(domain: str) -> bool:
        return any(domain == d or domain.endswith("." + d) for d in aws_domains)

    def imitation(domain: str) -> str:
        hit = imitates(domain, aws_domains=aws_domains, brands=lexicon.brands, glue_words=lexicon.glue_words)
        return str(hit) if hit else ""

    sender = mail.sender
    if within_aws(sender.domain):
        found["aws-sender"] = f"From {sender.address}"
    is_sns = sender.address in lexicon.sns_senders
    content = mail.text
    topic = ""
    if is_sns:
        topic = delivering_topic(mail.text)
        content = _without_footer(mail.text, lexicon.sns_footer)
        found["sns"] = f"From {sender.address}" + (f", topic {topic}" if topic else ", topic unknown")
        topic = topic or confirmed_topic("\n".join((mail.text, *mail.links)))
        owner = topic.split(":")[4] if topic.count(":") >= 5 else ""
        if owner and owner in owner_account_ids:
            learned = known_accounts.get(owner)
            found["sns-owned-topic"] = (f"topic account {owner} is a known account of the owner ({learned})" if learned
                                        else f"topic account {owner} is in [aws] account_ids")
        else:
            found["sns-foreign-topic"] = (f"topic account {owner} is not one of the owner's accounts" if owner
                                          else "the delivering topic is not named in the mail")
        names = dict.fromkeys((topic.rpartition(":")[2], *named_topics("\n".join((mail.text, *mail.links)))))
        scam = next(filter(None, (callback_traits(n, sender.name, lexicon) for n in names)), "")
        if not scam and "sns-foreign-topic" in found:
            scam = callback_message(_nfkc(f"{mail.subject}\n{content}"), lexicon)
        if scam:
            found["sns-callback-scam"] = scam
    if "aws-sender" in found and authenticity.verdict != "fail" and not is_sns:
        found["aws-genuine"] = f"From {sender.address}, authenticity {authenticity.verdict}"

    name = skeleton(sender.name, pairs=False)
    name_claims = not (is_sns and sender.name.strip().lower() in {n.lower() for n in lexicon.sns_default_names})
    if sender.name and name_claims and _any(lexicon.claim_names, " ".join(name.split())):
        found["claims-aws-name"] = f"display name {sender.name!r}"
    speaking = _first(lexicon.claim_text, _nfkc(f"{mail.subject}\n{content}"))
    logo = _first(lexicon.claim_html, mail.html) if not is_sns else ""
    if "claims-aws-name" in found or speaking or logo:
        found["claims-aws"] = found.get("claims-aws-name") or (f"says {speaking!r}" if speaking else f"logo {logo!r}")
    threat = _first(lexicon.account_threats, _nfkc(f"{mail.subject}\n{content}"))
    if threat:
        found["account-threat"] = f"says {threat!r}"

    if imitation(sender.domain):
        found["lookalike-sender"] = imitation(sender.domain)
    for reply in mail.reply_to:
        if imitation(reply.domain):
            found["lookalike-reply-to"] = imitation(reply.domain)
        if reply.domain in lexicon.freemail_domains and reply.domain != sender.domain:
            found["freemail-reply-to"] = f"Reply-To {reply.address}"
    for link in mail.links:
        host = _host(link)
        if host and imitation(host) and "lookalike-link" not in found:
            found["lookalike-link"] = imitation(host)
        if (host and "foreign-link" not in found and not within_aws(host)
                and organizational_domain(host) != organizational_domain(sender.domain or "-")):
            found["foreign-link"] = f"link to {host}"
    if sender.domain in lexicon.freemail_domains:
        found["freemail-sender"] = f"From {sender.address}"
    for attachment in mail.attachments:
        why = dangerous(attachment.filename, lexicon)
        if why:
            found["dangerous-attachment"] = why
            break

    if not is_sns:
        callback = callback_message(_nfkc(f"{mail.subject}\n{mail.text}"), lexicon)
        if callback:
            found["callback-scam"] = callback

    device = device_code_request(_nfkc(f"{mail.subject}\n{mail.text}"), mail.links, lexicon)
    if device:
        found["device-code-request"] = device

    usd = _largest_usd(entities, jpy_per_usd)
    if usd is not None and usd > Decimal(str(statement_alert_usd)):
        found["amount-over-alert"] = f"about {usd:,.2f} USD is above {statement_alert_usd:g} USD"
    forward = _first(lexicon.forward_markers, _nfkc(f"{mail.subject}\n{mail.text}"))
    if forward:
        found["forwarded"] = f"says {forward!r}"
    for header in lexicon.newsletter_headers:
        if mail.header(header):
            found["newsletter"] = f"{header} header"
            break
    return Signals(frozenset(found), tuple(f"{k}: {v}" for k, v in found.items()), topic, content)


def delivering_topic(text: str) -> str:
    """The SNS topic that delivered the mail: from the last unsubscribe link, which SNS itself appends
    after the message (an ARN written in the message body proves nothing)."""
    found = ""
    for m in re.finditer(r"SubscriptionArn=([^\s&>\"']+)", text):
        arn = urllib.parse.unquote(m.group(1))
        parts = arn.split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "sns":
            found = ":".join(parts[:6])
    return found


def confirmed_topic(text: str) -> str:
    """The topic a subscription confirmation is for: from the TopicArn of SNS's confirmation link."""
    m = re.search(r"TopicArn=(arn(?::|%3A)aws(?::|%3A)sns[^\s&>\"']+)", text)
    if not m:
        return ""
    parts = urllib.parse.unquote(m.group(1)).split(":")
    return ":".join(parts[:6]) if len(parts) >= 6 else ""


_SNS_ARN = re.compile(r"arn(?::|%3A)aws(?::|%3A)sns(?::|%3A)[a-z0-9-]{1,30}(?::|%3A)[0-9]{12}(?::|%3A)"
                      r"([A-Za-z0-9_.-]{1,256})")


def named_topics(text: str) -> tuple[str, ...]:
    """The names of every SNS topic the mail names: a confirmation names its topic in SNS's own words and in
    its link (HTML mail has the link only). A name proves no ownership; it may still be the scam's message."""
    return tuple(dict.fromkeys(m.group(1) for m in _SNS_ARN.finditer(text)))


def callback_message(text: str, lexicon: Lexicon) -> str:
    """Why a message is a callback scam, or "": it carries all three traits (a phone number, an amount,
    refund/renewal/cancel words): "renewed for $499.99, to cancel call …". Asked of a stranger's SNS topic,
    and of mail that speaks as AWS (AWS never asks to be phoned about a charge)."""
    # In a message a phone number is written to be read: grouped, or with its "+" (a bare run of digits is
    # more often a support case or an order number).
    # All three or nothing: each is looked for only once the ones before it were found.
    words = _first(lexicon.callback_words, text)
    amount = _first(lexicon.callback_amount, text) if words else ""
    phone = next((" ".join(m.group(0).split()) for p in lexicon.callback_phone for m in p.finditer(text)
                  if not m.group(0).strip().isdigit()), "") if amount else ""
    if phone:
        return (f"callback scam: the message carries a phone number {phone!r}, an amount {amount!r} and "
                f"the words {words!r}")
    return ""


def callback_traits(topic_name: str, display_name: str, lexicon: Lexicon) -> str:
    """Why an SNS topic is a callback scam ("…-Renewal-399-USD-Refund-Call-1-888-…"), or "".

    The topic name and the display name are the topic owner's words; either one carrying two of the three
    traits (a phone number, an amount, refund/renewal/cancel words) is the scam's message itself."""
    for where, name in (("topic name", topic_name), ("display name", display_name)):
        text = _nfkc(name)
        traits = [label for label, patterns in (("a phone number", lexicon.callback_phone),
                                                 ("an amount", lexicon.callback_amount),
                                                 ("refund/renewal/cancel words", lexicon.callback_words))
                  if _any(patterns, text)]
        if len(traits) >= 2:
            return f"callback scam: {where} {name!r} carries {', '.join(traits)}"
    return ""


def device_code_request(text: str, links: tuple[str, ...], lexicon: Lexicon) -> str:
    """Why a mail is device-code phishing (a code to enter on AWS's genuine device page), or ""."""
    where = "\n".join((text, *links))
    page = _first(lexicon.device_auth_pages, where)
    code = _first(lexicon.device_codes, where)
    if page and code:
        return f"device-code phishing: asks to enter the code {code!r} on AWS's own page {page!r}"
    return ""


def dangerous(filename: str, lexicon: Lexicon) -> str:
    """Why an attachment name is dangerous, or ""."""
    name = unicodedata.normalize("NFKC", filename).strip().lower()
    if not name:
        return ""
    if "\u202e" in name:
        return f"attachment {filename!r} hides its extension with a right-to-left mark"
    parts = name.rsplit(".", 2)
    ext = parts[-1] if len(parts) > 1 else ""
    if ext in lexicon.dangerous_extensions:
        return f"attachment {filename!r} (.{ext})"
    if len(parts) == 3 and parts[1] in lexicon.document_extensions and ext not in lexicon.document_extensions:
        return f"attachment {filename!r} has a double extension (.{parts[1]}.{ext})"
    return ""


def _without_footer(text: str, footers: tuple[re.Pattern[str], ...]) -> str:
    """The message without the footer SNS appends; the last footer is SNS's (a sender can only add earlier
    ones, and those must not hide the words before them)."""
    starts = [m.start() for p in footers for m in p.finditer(text)]
    return text[: max(starts)] if starts else text


def _largest_usd(entities: Entities, jpy_per_usd: float) -> Decimal | None:
    candidates = []
    usd = entities.largest("USD")
    if usd is not None:
        candidates.append(usd)
    jpy = entities.largest("JPY")
    if jpy is not None and jpy_per_usd > 0:
        candidates.append(jpy / Decimal(str(jpy_per_usd)))
    return max(candidates) if candidates else None


def _host(link: str) -> str:
    try:
        return (urllib.parse.urlsplit(link.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    for p in patterns:
        m = p.search(text)
        if m:
            return " ".join(m.group(0).split())[:80]
    return ""
