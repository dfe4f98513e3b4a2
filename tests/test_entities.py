"""Entities: identifiers, amounts, dates and deadlines, in the forms AWS writes them."""

from datetime import UTC, date, datetime
from decimal import Decimal

from triage.entities import Amount, find_entities

TEXT = """
Your AWS account 4829-1573-0264 (also written 730156284913) shows activity in us-east-1, eu-west-1
and in ap-northeast-1a. Instances i-0a4c2e9f81b37d615 and i-0abc1234 were launched with the access key
AKIAXH3LQ7PZ2M5KV9RT; a temporary key ASIAQ4WERTY7ZXCVB2NM was also used.
Sources: 185.220.101.34, 2001:db8:85a3::8a2e:370:7334. Not an address: 999.1.1.1 or version 10:00:00.
Charges so far: $18,406.22, also listed as USD 1,284.19, 48,216円, ¥2,418,300 and EUR 12.50.
Reply by March 14, 2026. The event happened on 2026-03-03. 2026年3月31日までにお支払いください。
"""


def test_identifiers():
    e = find_entities("[CASE 17412093581] Suspicious activity", TEXT)
    assert e.case_ids == ("17412093581",)
    assert e.account_ids == ("482915730264", "730156284913")
    assert e.regions == ("us-east-1", "eu-west-1", "ap-northeast-1")
    assert e.instance_ids == ("i-0a4c2e9f81b37d615", "i-0abc1234")
    assert e.access_key_ids == ("AKIAXH3LQ7PZ2M5KV9RT", "ASIAQ4WERTY7ZXCVB2NM")
    assert e.ip_addresses == ("185.220.101.34", "2001:db8:85a3::8a2e:370:7334")


def test_amounts_carry_their_currency():
    e = find_entities("", TEXT)
    assert e.amounts == (
        Amount(Decimal("18406.22"), "USD"), Amount(Decimal("1284.19"), "USD"), Amount(Decimal("48216"), "JPY"),
        Amount(Decimal("2418300"), "JPY"), Amount(Decimal("12.50"), "EUR"),
    )
    assert e.largest("USD") == Decimal("18406.22")
    assert e.largest("GBP") is None
    assert str(e.amounts[0]) == "USD 18,406.22"


def test_dates_and_deadlines():
    e = find_entities("", TEXT)
    assert e.dates == (date(2026, 3, 14), date(2026, 3, 3), date(2026, 3, 31))
    assert e.deadlines == (date(2026, 3, 14), date(2026, 3, 31))


def test_relative_deadline_counts_from_the_sending_date():
    sent = datetime(2026, 3, 4, 11, 2, tzinfo=UTC)
    e = find_entities("", "If we do not hear from you within five (5) days, we may suspend the account.", sent=sent)
    assert e.deadlines == (date(2026, 3, 9),)
    e = find_entities("", "Please reply within 24 hours.", sent=sent)
    assert e.deadlines == (date(2026, 3, 5),)
    e = find_entities("", "24時間以内にご確認ください。", sent=sent)
    assert e.deadlines == (date(2026, 3, 5),)


def test_case_id_from_the_body_when_the_subject_has_none():
    e = find_entities("New correspondence", "There is new correspondence on your support case ID: 17460032218.")
    assert e.case_ids == ("17460032218",)


def test_case_number_is_not_an_account_id():
    e = find_entities("RE:[CASE 171234567890] [ACTION REQUIRED]", "Account 482915730264.")
    assert e.case_ids == ("171234567890",)
    assert e.account_ids == ("482915730264",)


def test_account_id_inside_an_arn():
    e = find_entities("", "arn:aws:sns:us-east-1:482915730264:billing-alerts")
    assert e.account_ids == ("482915730264",)
    assert e.regions == ("us-east-1",)


def test_nothing_in_plain_text():
    e = find_entities("Hello", "Lunch at 12:30? Order 249-5816320-7731842, tel 03-1234-5678.")
    assert (e.case_ids, e.account_ids, e.regions, e.instance_ids, e.access_key_ids, e.ip_addresses) == (
        (), (), (), (), (), ())
