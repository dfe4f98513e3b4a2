"""A generated mailbox that looks like a real Japanese inbox, for the scan benchmark.

Deterministic for a given size: the same N gives the same mails, byte for byte. The mix (shares of N):

  personal mail, Japanese and English, short, some replies             32%
  Amazon.co.jp retail, Prime, Kindle, Music (HTML, 15-40 KB)           13%
  Japanese newsletters: ISO-2022-JP 7bit text, UTF-8 base64 HTML        16%
  other transactional mail (banks, shops, travel; HTML)                 14%
  HTML newsletters, 50-100 KB, some with an image or a PDF attached     10%
  other clouds and SaaS that mention AWS (mostly in the body)           14%
  AWS mail of every kind from tests/corpus, some as case threads         1%

Every mail carries what real mail carries: a Received chain, DKIM-Signature, Authentication-Results,
and List-Unsubscribe/List-Id for bulk mail. Each generated mail has its own Message-ID and Date (spread
over the two years before ANCHOR), and the IMAP internal date equals the Date.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import random
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

VERSION = 1  # bump when the generated mail changes: the cache is keyed by it
ANCHOR = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
OWNER = "taro.yamada@example.jp"


@dataclass(frozen=True)
class Generated:
    kind: str  # personal | retail | jp-news | transactional | newsletter | saas | aws
    date: datetime
    data: bytes


# --- text material ------------------------------------------------------------------------------

JA = [
    "いつもお世話になっております。",
    "本日はご利用いただきありがとうございます。",
    "詳しくは下記のページをご覧ください。",
    "今週の特集は、秋の新作と季節のおすすめです。",
    "ご不明な点がございましたら、お気軽にお問い合わせください。",
    "会議の資料を添付しましたので、ご確認をお願いします。",
    "来週の打ち合わせは水曜日の午後でいかがでしょうか。",
    "先日はありがとうございました。とても楽しい時間でした。",
    "期間限定のキャンペーンを実施しています。",
    "配送状況は注文履歴からご確認いただけます。",
    "ポイントの有効期限が近づいています。",
    "新しい記事が公開されました。",
    "東京都渋谷区の会場で開催します。参加は無料です。",
    "お支払い方法の確認をお願いいたします。",
    "このメールは送信専用アドレスから配信されています。",
    "配信停止をご希望の方は、こちらから手続きしてください。",
]
EN = [
    "Thanks for reading this week's issue.",
    "Here is what happened in the industry this week.",
    "Our team shipped three new features and fixed a number of bugs.",
    "Read the full story on our blog.",
    "You are receiving this email because you signed up for updates.",
    "Let me know if Thursday works for you.",
    "The quarterly report is attached; please review it before the meeting.",
    "Prices start at $9 per month.",
    "We have updated our privacy policy. No action is needed.",
    "Join the webinar next Tuesday at 10am PT.",
    "Kubernetes, Postgres and Rust were the most discussed topics.",
    "Download the slides from the conference.",
]
SAAS_AWS = [
    "Connect your AWS account in two clicks and see every EC2 instance on one dashboard.",
    "Deploys to AWS Lambda and Amazon S3 are now 30% faster.",
    "Compare our pricing with AWS, Google Cloud and Azure.",
    "Our status page: the upstream AWS us-east-1 issue has been resolved.",
    "Export your logs to Amazon CloudWatch or an S3 bucket.",
    "The new integration reads AWS Cost Explorer and warns before your bill grows.",
]
WORDS = [
    "cloud",
    "data",
    "team",
    "release",
    "update",
    "report",
    "market",
    "design",
    "build",
    "growth",
    "customer",
    "product",
    "security",
    "price",
    "event",
    "guide",
    "review",
    "news",
    "service",
    "account",
    "support",
    "travel",
    "photo",
    "music",
]


def _pick(rng: random.Random, pool: list[str], n: int) -> str:
    return "".join(rng.choice(pool) for _ in range(n))


def _html(rng: random.Random, size: int, pool: list[str], title: str) -> str:
    """An HTML mail body of about `size` characters: table layout, inline styles, tracking links."""
    parts = [
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{margin:0;padding:0}td{font-family:Helvetica,Arial,sans-serif}</style></head>"
        '<body><table width="100%" cellpadding="0" cellspacing="0" border="0">'
    ]
    total = 0
    while total < size:
        url = f"https://click.example-mail.jp/t/{rng.getrandbits(64):016x}/{rng.choice(WORDS)}"
        block = (
            f'<tr><td style="padding:12px 24px;color:#333333;font-size:14px;line-height:1.6">'
            f'<a href="{url}" style="color:#0066c0;text-decoration:none">{rng.choice(pool)}</a><br>'
            f"{_pick(rng, pool, 3)}</td></tr>"
            f'<tr><td><img src="https://img.example-mail.jp/{rng.getrandbits(48):012x}.png" width="600" '
            f'height="1" alt="" style="display:block"></td></tr>\n'
        )
        parts.append(block)
        total += len(block.encode()) * 4 // 3  # as it travels: base64 (Japanese) or about as long (ASCII)
    parts.append("</table></body></html>\n")
    return "".join(parts)


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def _encoded(text: str) -> str:
    """Transfer encoding and body of a text part: quoted-printable for ASCII, base64 for Japanese."""
    if text.isascii():
        return f"Content-Transfer-Encoding: quoted-printable\n\n{_qp(text)}"
    return f"Content-Transfer-Encoding: base64\n\n{_b64(text.encode())}"


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def _subject(text: str, charset: str = "utf-8") -> str:
    if text.isascii():
        return text
    return Header(text, charset).encode()


def _name(display: str, address: str, charset: str = "utf-8") -> str:
    return (
        f"{_subject(display, charset)} <{address}>" if not display.isascii() else f'"{display}" <{address}>'
    )


# --- headers ----------------------------------------------------------------------------------------


def _envelope(
    rng: random.Random,
    sender: str,
    subject: str,
    date: datetime,
    message_id: str,
    *,
    bulk: bool,
    extra: str = "",
) -> str:
    domain = sender.rpartition("@")[2].rstrip(">").lower()
    ip = f"{rng.randint(20, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    stamp = format_datetime(date)
    selector = f"s{rng.randint(1, 9)}{rng.getrandbits(32):08x}"
    signature = _b64(rng.randbytes(192)).strip().replace("\n", "\n\t")
    lines = [
        f"Delivered-To: {OWNER}",
        f"Received: by 2002:a05:7300:{rng.getrandbits(16):x}:b0:{rng.getrandbits(16):x} with SMTP id "
        f"{rng.getrandbits(48):x}csp{rng.randint(1000000, 9999999)}; {stamp}",
        f"Return-Path: <bounce-{rng.getrandbits(40):010x}@{domain}>",
        f"Received: from mail-{rng.randint(1, 99)}.{domain} (mail-{rng.randint(1, 99)}.{domain}. [{ip}])\n"
        f"        by mx.google.com with ESMTPS id {rng.getrandbits(64):016x}\n        for <{OWNER}>\n"
        f"        (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128);\n        {stamp}",
        f"Received-SPF: pass (google.com: domain of bounce@{domain} designates {ip} as permitted sender) "
        f"client-ip={ip};",
        f"Authentication-Results: mx.google.com;\n       dkim=pass header.i=@{domain} header.s={selector};\n"
        f"       spf=pass smtp.mailfrom={domain};\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={domain}",
        f"DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/relaxed;\n\td={domain}; s={selector}; "
        f"t={int(date.timestamp())};\n\th=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\n"
        f"\tbh={_b64(rng.randbytes(32)).strip()};\n\tb={signature}",
    ]
    if bulk:
        lines += [
            f"List-Unsubscribe: <https://{domain}/unsubscribe/{rng.getrandbits(80):020x}>, "
            f"<mailto:unsubscribe-{rng.getrandbits(40):010x}@{domain}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            f"List-Id: <news.{domain}>",
            "Precedence: bulk",
            f"Feedback-ID: {rng.getrandbits(32)}:{domain}:campaign",
        ]
    lines += [
        f"From: {sender}",
        f"To: {OWNER}",
        f"Subject: {subject}",
        f"Date: {stamp}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
    ]
    if extra:
        lines.append(extra.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _alternative(
    rng: random.Random, plain: str, html: str, *, attachments: list[tuple[str, str, bytes]] = ()
) -> str:
    """multipart/alternative (text + HTML), inside multipart/mixed when something is attached."""
    alt = f"alt-{rng.getrandbits(64):016x}"
    body = (
        f'Content-Type: multipart/alternative; boundary="{alt}"\n\n--{alt}\n'
        f'Content-Type: text/plain; charset="utf-8"\n{_encoded(plain)}\n'
        f'--{alt}\nContent-Type: text/html; charset="utf-8"\n{_encoded(html)}\n--{alt}--\n'
    )
    if not attachments:
        return body
    mixed = f"mix-{rng.getrandbits(64):016x}"
    out = [f'Content-Type: multipart/mixed; boundary="{mixed}"\n\n--{mixed}\n{body}']
    for filename, ctype, data in attachments:
        out.append(
            f'--{mixed}\nContent-Type: {ctype}; name="{filename}"\n'
            f'Content-Disposition: attachment; filename="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n{_b64(data)}"
        )
    out.append(f"--{mixed}--\n")
    return "".join(out)


def _png(rng: random.Random, size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)


def _pdf(rng: random.Random, size: int) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(size) + b"\n%%EOF\n"


# --- the kinds ------------------------------------------------------------------------------------

RETAIL = [
    ("Amazon.co.jp", "auto-confirm@amazon.co.jp", "Amazon.co.jp ご注文の確認「{item}」"),
    ("Amazon.co.jp", "ship-confirm@amazon.co.jp", "Amazon.co.jp 発送のお知らせ「{item}」"),
    ("Amazon.co.jp", "order-update@amazon.co.jp", "お届け予定日の変更: {item}"),
    ("Amazonプライム", "prime@amazon.co.jp", "Amazonプライム会員特典のご案内"),
    ("Amazon.co.jp", "store-news@amazon.co.jp", "プライムデー先行セール: {item}が最大40%オフ"),
    ("Amazon.co.jp", "digital-no-reply@amazon.co.jp", "Kindle本のご注文: {item}"),
    ("Amazon Music", "no-reply@amazon.co.jp", "Amazon Music Unlimited 3か月無料のお知らせ"),
    ("Amazon.co.jp", "account-update@amazon.co.jp", "Amazon.co.jp アカウント情報の変更"),
    ("Amazon.com", "shipment-tracking@amazon.com", 'Your Amazon.com order of "{item}" has shipped!'),
]
ITEMS = [
    "USB-C ケーブル 2m",
    "ワイヤレスマウス",
    "コーヒー豆 1kg",
    "文庫本 3冊",
    "モバイルバッテリー",
    "加湿器",
    "Echo Dot",
    "Fire TV Stick",
    "ノートPCスタンド",
    "トイレットペーパー 12ロール",
]
SAAS = [
    (
        "Datadog",
        "noreply@dtdg.example",
        "Your weekly infrastructure report",
        "[Monitor] High latency on api (AWS integration)",
    ),
    (
        "GitHub",
        "notifications@github.com",
        "[kumo/app] Pull request #{n}: bump dependencies",
        "[kumo/app] Deploy to AWS failed on main",
    ),
    (
        "Google Cloud",
        "CloudPlatform-noreply@google.com",
        "Google Cloud: what's new this month",
        "Move from AWS to Google Cloud: credits for startups",
    ),
    (
        "Microsoft Azure",
        "azure-noreply@microsoft.com",
        "Azure updates for your subscription",
        "Azure vs AWS: the 2026 comparison",
    ),
    (
        "Cloudflare",
        "noreply@notify.cloudflare.com",
        "Cloudflare: your monthly summary",
        "Cloudflare R2: no egress fees, unlike AWS S3",
    ),
    (
        "Slack",
        "feedback@slack.com",
        "Slack: new messages in #infra",
        "New in Slack: AWS Chatbot alerts in channels",
    ),
    (
        "Vercel",
        "notifications@vercel.com",
        "Deployment ready: kumo-web",
        "Vercel now runs on AWS regions in Tokyo",
    ),
    (
        "Sentry",
        "noreply@md.getsentry.com",
        "Weekly report for kumo-works",
        "Sentry: new issue in aws-lambda handler",
    ),
]
JP_NEWS = [
    ("日経クロステック", "news@nikkeibp.example"),
    ("Qiita", "noreply@qiita.example"),
    ("note", "info@note.example"),
    ("ねこ通信", "info@neko.example"),
    ("楽天市場", "news@rakuten.example"),
    ("じゃらん", "info@jalan.example"),
    ("ITmedia", "mailmag@itmedia.example"),
    ("Zenn", "noreply@zenn.example"),
]
TRANSACTIONAL = [
    ("三井住友カード", "info@smbc-card.example", "ご利用明細のお知らせ"),
    ("楽天カード", "info@rakuten-card.example", "カードご利用のお知らせ"),
    ("Yahoo!ショッピング", "order@shopping.yahoo.example", "ご注文ありがとうございます"),
    ("JR東日本", "info@eki-net.example", "えきねっと 予約内容のお知らせ"),
    ("ANA", "info@ana.example", "ご搭乗のご案内"),
    ("Uber Eats", "uber@uber.example", "ご注文の領収書"),
    ("PayPay", "info@paypay.example", "お支払い完了のお知らせ"),
]
PEOPLE = [
    ("鈴木 花子", "hanako.suzuki@example.jp"),
    ("佐藤 健", "ken.sato@example.co.jp"),
    ("Alice Chen", "alice@example.com"),
    ("田中 美咲", "misaki.tanaka@gmail.example"),
    ("小野 剛", "t.ono@kumo-works.jp"),
    ("Bob Lee", "bob@example.org"),
]
PERSONAL_SUBJECTS = [
    "週末の予定",
    "資料の件",
    "Re: 打ち合わせの日程",
    "写真を送ります",
    "Lunch next week?",
    "Re: Re: 見積もり",
    "Amazonで買った本の感想",
    "飲み会のお知らせ",
    "Quick question",
    "引っ越しのご連絡",
]


class Builder:
    def __init__(self, rng: random.Random, date: datetime, serial: int) -> None:
        self.rng, self.date, self.serial = rng, date, serial

    def mid(self, domain: str) -> str:
        return f"<{self.serial:06d}.{self.rng.getrandbits(64):016x}@{domain}>"

    def personal(self) -> bytes:
        rng = self.rng
        name, address = rng.choice(PEOPLE)
        subject = rng.choice(PERSONAL_SUBJECTS)
        japanese = not name.isascii()
        body = _pick(rng, JA if japanese else EN, rng.randint(4, 30)) + "\n"
        if japanese and rng.random() < 0.4:  # a Japanese mailer: ISO-2022-JP, 7bit
            head = _envelope(
                rng,
                _name(name, address, "iso-2022-jp"),
                _subject(subject, "iso-2022-jp"),
                self.date,
                self.mid(address.split("@")[1]),
                bulk=False,
                extra='Content-Type: text/plain; charset="ISO-2022-JP"\nContent-Transfer-Encoding: 7bit',
            )
            return head.encode() + b"\n" + body.replace("\n", "\r\n").encode("iso-2022-jp")
        head = _envelope(
            rng,
            _name(name, address),
            _subject(subject),
            self.date,
            self.mid(address.split("@")[1]),
            bulk=False,
            extra='Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable',
        )
        return (head + "\n" + _qp(body)).encode()

    def retail(self) -> bytes:
        rng = self.rng
        display, address, subject = rng.choice(RETAIL)
        subject = subject.format(item=rng.choice(ITEMS))
        html = _html(rng, rng.randint(15_000, 40_000), JA, "Amazon.co.jp")
        head = _envelope(
            rng,
            _name(display, address),
            _subject(subject),
            self.date,
            self.mid("amazon.co.jp"),
            bulk="news" in address or "prime" in address,
        )
        return (head + _alternative(rng, _pick(rng, JA, 20), html)).encode()

    def jp_news(self) -> bytes:
        rng = self.rng
        display, address = rng.choice(JP_NEWS)
        subject = f"【{display}】{rng.choice(JA)[:18]} 第{self.serial % 400}号"
        if rng.random() < 0.5:
            body = "\r\n".join(_pick(rng, JA, 2) for _ in range(rng.randint(40, 160))) + "\r\n"
            head = _envelope(
                rng,
                _name(display, address, "iso-2022-jp"),
                _subject(subject, "iso-2022-jp"),
                self.date,
                self.mid(address.split("@")[1]),
                bulk=True,
                extra='Content-Type: text/plain; charset="ISO-2022-JP"\nContent-Transfer-Encoding: 7bit',
            )
            return head.encode() + b"\n" + body.encode("iso-2022-jp")
        html = _html(rng, rng.randint(5_000, 20_000), JA, display)
        head = _envelope(
            rng,
            _name(display, address),
            _subject(subject),
            self.date,
            self.mid(address.split("@")[1]),
            bulk=True,
            extra='Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64',
        )
        return head.encode() + b"\n" + _b64(html.encode()).encode()

    def transactional(self) -> bytes:
        rng = self.rng
        display, address, subject = rng.choice(TRANSACTIONAL)
        html = _html(rng, rng.randint(5_000, 20_000), JA, display)
        head = _envelope(
            rng,
            _name(display, address),
            _subject(subject),
            self.date,
            self.mid(address.split("@")[1]),
            bulk=False,
        )
        return (head + _alternative(rng, _pick(rng, JA, 10), html)).encode()

    def newsletter(self) -> bytes:
        rng = self.rng
        japanese = rng.random() < 0.5
        pool = JA if japanese else EN
        display = rng.choice(
            [
                "Medium Daily Digest",
                "The Pragmatic Engineer",
                "Nikkei Asia",
                "週刊テックニュース",
                "Product Hunt Daily",
                "デザイン通信",
            ]
        )
        address = f"newsletter@{re.sub(r'[^a-z]', '', display.lower()) or 'tech-news'}.example"
        subject = f"{display}: {rng.choice(pool)[:40]}"
        attachments: list[tuple[str, str, bytes]] = []
        roll = rng.random()
        if roll < 0.15:
            attachments.append(
                (f"banner-{self.serial}.png", "image/png", _png(rng, rng.randint(20_000, 80_000)))
            )
        elif roll < 0.20:
            size = 1_000_000 if rng.random() < 0.1 else rng.randint(100_000, 300_000)
            attachments.append((f"report-{self.serial}.pdf", "application/pdf", _pdf(rng, size)))
        html = _html(rng, rng.randint(50_000, 100_000), pool, display)
        head = _envelope(
            rng,
            _name(display, address),
            _subject(subject),
            self.date,
            self.mid(address.split("@")[1]),
            bulk=True,
        )
        return (head + _alternative(rng, _pick(rng, pool, 30), html, attachments=attachments)).encode()

    def saas(self) -> bytes:
        rng = self.rng
        display, address, subject, aws_subject = rng.choice(SAAS)
        subject = (aws_subject if rng.random() < 0.1 else subject).format(n=self.serial % 900)
        pool = EN + SAAS_AWS
        html = _html(rng, rng.randint(8_000, 30_000), pool, display)
        head = _envelope(
            rng,
            _name(display, address),
            _subject(subject),
            self.date,
            self.mid(address.split("@")[1]),
            bulk=True,
        )
        return (head + _alternative(rng, _pick(rng, pool, 12), html)).encode()


KINDS: list[tuple[str, float, Callable[[Builder], bytes]]] = [
    ("personal", 0.32, Builder.personal),
    ("retail", 0.13, Builder.retail),
    ("jp-news", 0.16, Builder.jp_news),
    ("transactional", 0.14, Builder.transactional),
    ("newsletter", 0.10, Builder.newsletter),
    ("saas", 0.14, Builder.saas),
]


# --- AWS mail from the corpus -------------------------------------------------------------------------


def aws_corpus() -> list[tuple[str, bytes]]:
    """(name, bytes) of every corpus mail that is about AWS: everything labelled other than `other`."""
    labels = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
    return [
        (name, (CORPUS / name).read_bytes())
        for name, label in sorted(labels.items())
        if name.endswith(".eml") and label.get("kind") != "other"
    ]


def _restamp(data: bytes, message_id: str, date: datetime, *, reply_to: str | None = None) -> bytes:
    """The corpus mail with a new Message-ID and Date (and, for a follow-up, In-Reply-To and a RE: subject)."""
    head, sep, body = (
        data.partition(b"\n\n") if b"\r\n\r\n" not in data[:20000] else data.partition(b"\r\n\r\n")
    )
    lines = re.sub(rb"\r?\n[ \t]", lambda m: b"\x00" + m.group(0)[-1:], head).split(b"\n")
    out = []
    for line in lines:
        key = line.split(b":", 1)[0].strip().lower()
        if key in (b"message-id", b"date", b"in-reply-to", b"references"):
            continue
        if reply_to and key == b"subject" and not line[9:].lstrip().upper().startswith(b"RE:"):
            line = b"Subject: RE:" + line[8:]
        out.append(line)
    out += [b"Message-ID: " + message_id.encode(), b"Date: " + format_datetime(date).encode()]
    if reply_to:
        out += [b"In-Reply-To: " + reply_to.encode(), b"References: " + reply_to.encode()]
    header = b"\n".join(out).replace(b"\x00", b"\n")
    return header.rstrip(b"\r\n") + (sep or b"\n\n") + body


def generate(count: int) -> Iterator[Generated]:
    """`count` mails in date order, oldest first; 1 in 100 is AWS mail."""
    rng = random.Random(f"triage-inbox-{VERSION}-{count}")
    corpus = aws_corpus()
    dates = sorted(ANCHOR - timedelta(seconds=rng.randint(0, 730 * 86400)) for _ in range(count))
    weights = [w for _, w, _ in KINDS]
    threads: list[tuple[str, bytes]] = []  # AWS mails a later follow-up may answer
    aws_every = 100
    for serial, date in enumerate(dates):
        if serial % aws_every == aws_every // 2:
            if threads and rng.random() < 0.25:  # a case thread: AWS writes again on the same case
                parent_id, parent = threads.pop(rng.randrange(len(threads)))
                yield Generated(
                    "aws", date, _restamp(parent, f"<aws-{serial:06d}@amazon.com>", date, reply_to=parent_id)
                )
                continue
            name, data = corpus[(serial // aws_every) % len(corpus)]
            message_id = f"<aws-{serial:06d}.{hashlib.sha1(name.encode()).hexdigest()[:8]}@amazon.com>"
            mail = _restamp(data, message_id, date)
            if name.startswith(("case-", "compromise-", "exposed-", "suspension-")):
                threads.append((message_id, data))
            yield Generated("aws", date, mail)
            continue
        builder = Builder(rng, date, serial)
        kind = rng.choices(KINDS, weights)[0]
        yield Generated(kind[0], date, kind[2](builder))
