#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into tests/fuzz/corpus/<target>/seed-*.

The payloads are the shapes of PROTOCOL.md §3 (XML and their JSON form) and the request shapes of
§1.2 / §1.3; the framing of fuzz_callback_decode is described at the top of its source. Signatures
use the harness's fixed test secrets (nothing real) and AES goes through the openssl CLI.
Re-running overwrites the seed-* files only; libFuzzer-named files are left alone.
"""
import base64
import hashlib
import pathlib
import struct
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"

# Must match tests/fuzz/fuzz_callback_decode.cc.
NOW = "1767225600"
NONCE = "1234567890"
WECOM = dict(token="wecomFuzzToken", key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
             receive_id="wwfuzzcorp0001")
OA = dict(token="oaFuzzToken", key="GFEDCBA9876543210zyxwvutsrqponmlkjihgfedcba",
          receive_id="wxfuzzapp0000001")
PREFIX = b"seedprefix012345"

OA_TEXT = ("<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oUserOpenid]]>"
           "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           "<Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId>"
           "<MsgDataId>xxxx</MsgDataId><Idx>xxxx</Idx></xml>")
OA_HEAD = ("<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oUserOpenid]]>"
           "</FromUserName><CreateTime>1348831860</CreateTime>")
OA_EVENT = OA_HEAD + "<MsgType><![CDATA[event]]></MsgType>"
WECOM_EVENT = ("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
               "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
               "</MsgType>")
WECOM_TEXT = ("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]>"
              "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]>"
              "</MsgType><Content><![CDATA[this is a test]]></Content>"
              "<MsgId>1234567890123456</MsgId><AgentID>1</AgentID></xml>")
WECOM_CONTACT_ADD = (WECOM_EVENT + "<Event><![CDATA[change_external_contact]]></Event>"
                     "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
                     "<UserID><![CDATA[zhangsan]]></UserID>"
                     "<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACH71w]]></ExternalUserID>"
                     "<State><![CDATA[teststate]]></State>"
                     "<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>")
WECOM_CHAT_UPDATE = (WECOM_EVENT + "<Event><![CDATA[change_external_chat]]></Event>"
                     "<ChatId><![CDATA[CHAT_ID]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>"
                     "<UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene>"
                     "<QuitScene>0</QuitScene><MemChangeCnt>2</MemChangeCnt><MemChangeList>"
                     "<Item><![CDATA[wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA]]></Item>"
                     "<Item><![CDATA[zhangsan]]></Item></MemChangeList>"
                     "<LastMemVer><![CDATA[9c3f97c2ada667dfb5f6d03308d963e1]]></LastMemVer>"
                     "<CurMemVer><![CDATA[71217227bbd112ecfe3a49c482195cb4]]></CurMemVer></xml>")
OA_TEXT_JSON = ('{"ToUserName":"gh_xxx","FromUserName":"oUserOpenid","CreateTime":1348831860,'
                '"MsgType":"text","Content":"this is a test","MsgId":1234567890123456}')

NORMALIZE = {
    "oa_text.xml": OA_TEXT,
    "oa_image.xml": OA_HEAD + "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz"
    ".qpic.cn/x]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId></xml>",
    "oa_voice.xml": OA_HEAD + "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]>"
    "</MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[hi]]></Recognition>"
    "<MsgId>1234567890123456</MsgId></xml>",
    "oa_video.xml": OA_HEAD + "<MsgType>shortvideo</MsgType><MediaId>m</MediaId>"
    "<ThumbMediaId>t</ThumbMediaId><MsgId>1234567890123457</MsgId></xml>",
    "oa_location.xml": OA_HEAD + "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521"
    "</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]>"
    "</Label><MsgId>1234567890123456</MsgId></xml>",
    "oa_link.xml": OA_HEAD + "<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[公众平台官网链接]]>"
    "</Title><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[url]]></Url>"
    "<MsgId>1234567890123456</MsgId></xml>",
    "oa_subscribe.xml": OA_EVENT + "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]>"
    "</EventKey></xml>",
    "oa_subscribe_qrscene.xml": OA_EVENT + "<Event><![CDATA[subscribe]]></Event><EventKey>"
    "<![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>",
    "oa_scan.xml": OA_EVENT + "<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[SCENE_VALUE]]>"
    "</EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>",
    "oa_unsubscribe.xml": OA_EVENT + "<Event><![CDATA[unsubscribe]]></Event><EventKey><![CDATA[]]>"
    "</EventKey></xml>",
    "oa_click.xml": OA_EVENT + "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[EVENTKEY]]>"
    "</EventKey></xml>",
    "oa_view.xml": OA_EVENT + "<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[www.qq.com]]>"
    "</EventKey><MenuId>MENUID</MenuId></xml>",
    "oa_location_event.xml": OA_EVENT + "<Event><![CDATA[LOCATION]]></Event><Latitude>23.137466"
    "</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>",
    "oa_template_finish.xml": "<xml><ToUserName><![CDATA[touser]]></ToUserName><FromUserName>"
    "<![CDATA[fromuser]]></FromUserName><CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]>"
    "</MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>"
    "<Status><![CDATA[success]]></Status></xml>",
    "oa_mass_finish.xml": "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName>"
    "<![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
    "<MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount>"
    "<FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount>"
    "<CopyrightCheckResult><Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx></item>"
    "</ResultList><CheckState>2</CheckState></CopyrightCheckResult></xml>",
    "wecom_text.xml": WECOM_TEXT,
    "wecom_enter_agent.xml": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName>"
    "<![CDATA[FromUser]]></FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]>"
    "</MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>"
    "<AgentID>1</AgentID></xml>",
    "wecom_contact_add.xml": WECOM_CONTACT_ADD,
    "wecom_contact_del.xml": WECOM_EVENT + "<Event><![CDATA[change_external_contact]]></Event>"
    "<ChangeType><![CDATA[del_external_contact]]></ChangeType><UserID>u</UserID>"
    "<ExternalUserID>e</ExternalUserID><Source><![CDATA[DELETE_BY_TRANSFER]]></Source></xml>",
    "wecom_transfer_fail.xml": WECOM_EVENT + "<Event><![CDATA[change_external_contact]]></Event>"
    "<ChangeType><![CDATA[transfer_fail]]></ChangeType><FailReason><![CDATA[customer_refused]]>"
    "</FailReason><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID>e</ExternalUserID></xml>",
    "wecom_chat_create.xml": WECOM_EVENT + "<Event><![CDATA[change_external_chat]]></Event>"
    "<ChatId><![CDATA[CHAT_ID]]></ChatId><ChangeType><![CDATA[create]]></ChangeType></xml>",
    "wecom_chat_update.xml": WECOM_CHAT_UPDATE,
    "wecom_tag_create.xml": WECOM_EVENT + "<Event><![CDATA[change_external_tag]]></Event>"
    "<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[create]]>"
    "</ChangeType><StrategyId>1</StrategyId></xml>",
    "wecom_tag_shuffle.xml": WECOM_EVENT + "<Event><![CDATA[change_external_tag]]></Event>"
    "<Id><![CDATA[TAG_GROUP_ID]]></Id><StrategyId>1</StrategyId><ChangeType><![CDATA[shuffle]]>"
    "</ChangeType></xml>",
    "wecom_thirdparty_infotype.xml": "<xml><SuiteId><![CDATA[ww4asffe99e54c0f4c]]></SuiteId>"
    "<AuthCorpId><![CDATA[wxf8b4f85f3a794e77]]></AuthCorpId><InfoType><![CDATA[change_external_"
    "contact]]></InfoType><TimeStamp>1403610513</TimeStamp><ChangeType><![CDATA[add_external_"
    "contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[e]]>"
    "</ExternalUserID></xml>",
    "oa_text.json": OA_TEXT_JSON,
    "oa_subscribe.json": '{"ToUserName":"gh_xxx","FromUserName":"oUserOpenid","CreateTime":'
    '123456789,"MsgType":"event","Event":"subscribe","EventKey":"qrscene_123123","Ticket":"T"}',
    "oa_mass_finish.json": '{"ToUserName":"gh_x","FromUserName":"o","CreateTime":"1481013459",'
    '"MsgType":"event","Event":"MASSSENDJOBFINISH","MsgID":1000001625,"Status":"send success",'
    '"TotalCount":2,"FilterCount":2.5,"SentCount":true,"ErrorCount":null}',
    "wecom_chat_update.json": '{"ToUserName":"toUser","FromUserName":"sys","CreateTime":1403610513,'
    '"MsgType":"event","Event":"change_external_chat","ChatId":"CHAT_ID","ChangeType":"update",'
    '"UpdateDetail":"del_member","QuitScene":1,"MemChangeList":{"Item":["a","b\\u001fc"]},'
    '"CurMemVer":"v2"}',
    "msgid_max.json": '{"FromUserName":"o","CreateTime":1,"MsgType":"text","Content":"x",'
    '"MsgId":18446744073709551615}',
}


def aes_encrypt(key: bytes, data: bytes) -> bytes:
    return subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-nopad", "-K", key.hex(), "-iv", key[:16].hex()],
        input=data, stdout=subprocess.PIPE, check=True).stdout


def aes_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def frame(msg: bytes, receive_id: str, msg_len=None) -> bytes:
    n = len(msg) if msg_len is None else msg_len
    return PREFIX + struct.pack(">I", n) + msg + receive_id.encode()


def pkcs7_32(data: bytes) -> bytes:
    pad = 32 - len(data) % 32
    return data + bytes([pad]) * pad


def encrypt(account: dict, msg: bytes) -> str:
    padded = pkcs7_32(frame(msg, account["receive_id"]))
    return base64.b64encode(aes_encrypt(aes_key(account["key"]), padded)).decode()


def signature(*values: str) -> str:
    return hashlib.sha1("".join(sorted(values)).encode()).hexdigest()


def chunk(value: str) -> bytes:
    data = value.encode()
    assert len(data) < 256
    return bytes([len(data)]) + data


# Raw mode: presence bits in kRawParams order.
PARAMS = ["msg_signature", "timestamp", "nonce", "echostr", "signature", "encrypt_type", "openid"]


def raw(route: int, params: dict, body: str, auto_sign: bool = False) -> bytes:
    present = 0x80 if auto_sign else 0
    out = b""
    for i, name in enumerate(PARAMS):
        if name in params:
            present |= 1 << i
            out += chunk(params[name])
    return b"0" + bytes([ord("0") + route, present]) + out + body.encode()


def decode_seeds() -> dict:
    seeds = {}
    # Plaintext mode, one per route (routes 3 and 5 carry JSON envelopes).
    payloads = [WECOM_CONTACT_ADD, WECOM_TEXT, OA_TEXT, OA_TEXT_JSON, OA_TEXT, OA_TEXT_JSON,
                OA_TEXT, OA_TEXT]
    for route, payload in enumerate(payloads):
        seeds[f"plaintext_route{route}"] = b"3" + bytes([ord("0") + route]) + payload.encode()
    seeds["plaintext_wecom_chat_update"] = b"30" + WECOM_CHAT_UPDATE.encode()
    # Frame mode: valid frames, then each frame check.
    seeds["frame_wecom_ok"] = b"200" + frame(WECOM_TEXT.encode(), WECOM["receive_id"])
    seeds["frame_oa_json_ok"] = b"230" + frame(OA_TEXT_JSON.encode(), OA["receive_id"])
    seeds["frame_wrong_receiveid"] = b"220" + frame(OA_TEXT.encode(), "wxsomeoneelse")
    seeds["frame_len_past_end"] = b"200" + frame(b"<xml/>", WECOM["receive_id"], msg_len=0xFFFFFFF0)
    seeds["frame_short_zero_fill"] = b"211" + PREFIX[:12]
    seeds["frame_wecom_echo"] = b"210" + frame(b"1616140317555161061", WECOM["receive_id"])
    # Ciphertext mode: a valid Encrypt per account, and strict-base64 traps.
    seeds["ciphertext_wecom_ok"] = b"10" + encrypt(WECOM, WECOM_TEXT.encode()).encode()
    seeds["ciphertext_oa_json_ok"] = b"13" + encrypt(OA, OA_TEXT_JSON.encode()).encode()
    seeds["ciphertext_urlsafe"] = b"12" + b"ab-_" * 8
    seeds["ciphertext_bad_padding"] = b"10" + base64.b64encode(b"\x00" * 32)
    # Raw mode: complete requests as the platforms send them.
    wecom_encrypt = encrypt(WECOM, WECOM_CONTACT_ADD.encode())
    wecom_body = ("<xml><ToUserName><![CDATA[wwfuzzcorp0001]]></ToUserName><Encrypt><![CDATA["
                  + wecom_encrypt + "]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
    seeds["raw_wecom_post"] = raw(0, {
        "msg_signature": signature(WECOM["token"], NOW, NONCE, wecom_encrypt),
        "timestamp": NOW, "nonce": NONCE}, wecom_body)
    oa_encrypt = encrypt(OA, OA_TEXT.encode())
    seeds["raw_oa_safe_post"] = raw(1, {
        "msg_signature": signature(OA["token"], NOW, NONCE, oa_encrypt), "timestamp": NOW,
        "nonce": NONCE, "signature": signature(OA["token"], NOW, NONCE), "encrypt_type": "aes",
        "openid": "oUserOpenid"},
        "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><Encrypt><![CDATA[" + oa_encrypt
        + "]]></Encrypt></xml>")
    oa_json_encrypt = encrypt(OA, OA_TEXT_JSON.encode())
    seeds["raw_oa_compat_json_post"] = raw(2, {
        "msg_signature": signature(OA["token"], NOW, NONCE, oa_json_encrypt), "timestamp": NOW,
        "nonce": NONCE, "encrypt_type": "aes"},
        OA_TEXT_JSON[:-1] + ',"Encrypt":"' + oa_json_encrypt + '"}')
    seeds["raw_oa_plain_post"] = raw(3, {"timestamp": NOW, "nonce": NONCE, "signature": "",
                                         "openid": "oUserOpenid"}, OA_TEXT, auto_sign=True)
    seeds["raw_oa_plain_json_post"] = raw(3, {"timestamp": NOW, "nonce": NONCE, "signature": ""},
                                          OA_TEXT_JSON, auto_sign=True)
    echo = encrypt(WECOM, b"1616140317555161061")
    seeds["raw_wecom_verify"] = raw(4, {"msg_signature": "", "timestamp": NOW, "nonce": NONCE,
                                        "echostr": echo}, "", auto_sign=True)
    seeds["raw_oa_verify"] = raw(5, {"signature": "", "timestamp": NOW, "nonce": NONCE,
                                     "echostr": "4375120948345356249"}, "", auto_sign=True)
    # Regressions (tests/channels/fuzz_regressions_test.cc): the reply text is the payload, and
    # "]]" + control + ">" in it closed the reply's CDATA section early (AppendCdata).
    seeds["regression-reply_cdata_control"] = (
        b"36" + OA_TEXT.encode() + b"<!--]]\x01><Injected/>-->")
    return seeds


def write(target: str, name: str, data: bytes) -> None:
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(data)


def main() -> None:
    for name, payload in NORMALIZE.items():
        write("fuzz_normalize", name, payload.encode())
    for name, data in decode_seeds().items():
        write("fuzz_callback_decode", name, data)


if __name__ == "__main__":
    main()
