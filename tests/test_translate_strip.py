"""Only what the reader needs goes to DeepL: no quotes, greetings, signatures, footers, unsubscribe blocks."""

from tests.translate_helpers import classified, fixture
from triage.translate.language import is_japanese
from triage.translate.strip import strip


def flat(paragraphs: list[list[str]]) -> str:
    return "\n".join("\n".join(p) for p in paragraphs)


def test_aws_support_case_mail_keeps_the_message_and_drops_the_rest():
    mail = classified(fixture("03-case-reply-with-quote.eml")).mail
    kept = flat(strip(mail.text))
    assert kept.startswith("Thank you for your reply. We still see the unauthorized instance")
    assert "Please terminate these resources" in kept
    for gone in ("Hello,", "We value your feedback", "Best regards", "Priya", "To contact us again",
                 "federation", "cannot accept incoming", "To update an existing case", "wrote:",
                 "deploy-bot", "+81 90"):
        assert gone not in kept


def test_quoted_history_in_its_common_forms_is_cut():
    for history in (
        "On Mon, Nov 16, 2026 at 9:02 AM Taro <owner@example.jp> wrote:\n> old",
        "On Mon, Nov 16, 2026 at 9:02 AM Taro Yamada <\nowner@example.jp> wrote:\n> old",
        "-----Original Message-----\nFrom: AWS\nold",
        "From: Amazon Web Services <no-reply-aws@amazon.com>\nSent: Monday\nTo: me\nold",
        "________________________________\nFrom: AWS\nold",
        "2026年11月16日(月) 9:02 Taro <owner@example.jp>:書きました:\nold",
        "> old\n> older",
    ):
        assert flat(strip(f"The instance is stopped now.\n\n{history}\n")) == "The instance is stopped now."


def test_legal_footer_and_unsubscribe_paragraphs_are_dropped():
    text = (
        "Your budget is exceeded.\n\n"
        "This email was sent to owner@example.jp. To unsubscribe, update your notification preferences.\n\n"
        "Amazon Web Services, Inc. is a subsidiary of Amazon.com, Inc. Amazon.com is a registered trademark of "
        "Amazon.com, Inc. This message was produced and distributed by Amazon Web Services, Inc., 410 Terry "
        "Avenue North, Seattle, WA 98109-5210\n\n"
        "© 2026, Amazon Web Services, Inc. or its affiliates. All rights reserved.\n\n"
        "=====================\n"
    )
    assert flat(strip(text)) == "Your budget is exceeded."


def test_a_paragraph_of_pure_courtesy_is_dropped():
    text = ("Your payment failed.\n\nThank you for using Amazon Web Services.\n\nThank you for your patience.\n\n"
            "Thanks again!")
    assert flat(strip(text)) == "Your payment failed."


def test_sign_off_cuts_the_signature_but_a_thank_you_sentence_stays():
    text = "Thank you for deleting the key.\n\nPlease stop the instance.\n\nThanks,\nJane\nAWS Support\n"
    assert flat(strip(text)) == "Thank you for deleting the key.\nPlease stop the instance."
    assert flat(strip("Stop it.\n-- \nJane\n")) == "Stop it."


def test_greeting_goes_but_a_sentence_starting_with_hello_stays():
    assert flat(strip("Dear Taro Yamada,\n\nYour key is exposed.")) == "Your key is exposed."
    assert flat(strip("Hello, we saw a new sign-in.")) == "Hello, we saw a new sign-in."


def test_wrapped_lines_are_joined_and_lists_and_labels_stay_apart():
    text = ("We have detected activity in your AWS account that suggests a third party\n"
            "has gained access to it.\n\n"
            "Please complete the following steps:\n"
            "1. Change the root user password.\n"
            "2. Delete any access keys you did not create, and check every Region for resources\n"
            "you did not create.\n"
            "Step 3: Enable MFA.\n\n"
            "Instance ID: i-0a1b2c3d4e5f67890\n"
            "Region: ap-northeast-1\n\n"
            "Log Extract:\n"
            "2026-11-14T09:51:07Z 54.250.10.77:51234 -> 192.0.2.44:22 TCP SYN ACK RST FIN\n"
            "2026-11-14T09:51:08Z 54.250.10.77:51235 -> 192.0.2.45:22 TCP SYN ACK RST FIN\n")
    assert strip(text) == [
        ["We have detected activity in your AWS account that suggests a third party has gained access to it."],
        ["Please complete the following steps:",
         "1. Change the root user password.",
         "2. Delete any access keys you did not create, and check every Region for resources you did not create.",
         "Step 3: Enable MFA."],
        ["Instance ID: i-0a1b2c3d4e5f67890", "Region: ap-northeast-1"],
        ["Log Extract:",
         "2026-11-14T09:51:07Z 54.250.10.77:51234 -> 192.0.2.44:22 TCP SYN ACK RST FIN",
         "2026-11-14T09:51:08Z 54.250.10.77:51235 -> 192.0.2.45:22 TCP SYN ACK RST FIN"],
    ]


def test_html_line_breaks_inside_a_paragraph_mean_nothing():
    text = "If you did not, please\ncontact AWS Support\nright away."
    assert strip(text, from_html=True) == [["If you did not, please contact AWS Support right away."]]


def test_japanese_detection():
    assert is_japanese(classified(fixture("08-japanese-notice.eml")).mail.text)
    assert not is_japanese(classified(fixture("01-compromised-account.eml")).mail.text)
    bilingual = "AWS アカウントで不正な操作が検出されました。パスワードを変更してください。\n\n" \
                "Unauthorized activity was detected in your account. Change your password."
    assert is_japanese(bilingual)
    assert not is_japanese("Your instance in Asia Pacific (Tokyo) 東京 was stopped for maintenance today.")
