"""Every setting of the client, declared once: section, key, type, default, meaning.

config/user.ini.example is checked against this list by tests/config/test_example_ini.py,
so a setting cannot be added, renamed or re-defaulted without updating the example.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client.config import types as t


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    type: t.ValueType[Any]
    default: Any
    meaning: str  # bilingual: admins read the example ini in Chinese first
    # Decides security (who passes the identity check, whether it runs; which server the
    # PC talks to and whom it trusts): read only from the machine-wide config, never from a
    # file the candidate can write (per-user user.ini, --config, a portable copy's
    # folder). client.config.loader enforces it.
    trusted_only: bool = False

    @property
    def name(self) -> str:
        return f"{self.section}/{self.key}"


SETTINGS: tuple[Setting, ...] = (
    # The server's trust anchors (url, ca_file, signing_public_key): a candidate who could
    # set them would point the PC at a proxy of their own and rewrite what it sends and
    # receives (docs/console.md, "Trust anchors").
    Setting("server", "url", t.Url(), "https://exam.example.invalid",
            "考试服务器地址（http:// 需 allow_plain_http） / URL of the exam server (http:// "
            "needs allow_plain_http)", trusted_only=True),
    Setting("server", "allow_plain_http", t.Boolean(), False,
            "允许不加密的 http:// 服务器地址（仅限实验室/测试网络，正式考试不要开启） / Allow a "
            "plain http:// server URL (lab or test network only, never a real exam)",
            trusted_only=True),
    Setting("server", "center_id", t.Text(), "",
            "考点编号，由主考/考点管理员提供 / Exam center id"),
    Setting("server", "ca_file", t.OptionalPath(), None,
            "考点自建服务器的 CA 证书文件（可空，须放在全机配置目录中） / Extra CA certificate "
            "file for a center's own server (optional), in the machine-wide config folder",
            trusted_only=True),
    Setting("server", "signing_public_key", t.Text(), "",
            "服务器签名公钥（base64，可空：首次连接时记录） / Server Ed25519 public key, base64; "
            "empty = pinned on first contact", trusted_only=True),
    Setting("server", "timeout_seconds", t.Decimal(1.0, 120.0), 10.0,
            "单次网络请求超时（秒） / Timeout of one network request, seconds"),
    Setting("data", "directory", t.OptionalPath(), None,
            "答案数据目录，请放在不被还原卡/还原软件重置的分区（如 D:\\ExamClientData）；空 = 用户"
            "目录 / Answer data folder; put it on a drive that restore software does not reset; "
            "empty = per-user folder"),
    Setting("ui", "language", t.Choice(("zh_CN", "en")), "zh_CN",
            "界面语言 / User interface language"),
    Setting("ui", "font_scale", t.Decimal(0.8, 2.0), 1.0,
            "题目字号缩放 / Initial zoom of question text"),
    Setting("ui", "high_contrast", t.Boolean(), False,
            "高对比度显示（黑底白字） / High-contrast theme (white on black)"),
    Setting("OpenGL", "Level", t.Choice(("auto", "0", "1", "2")), "auto",
            "渲染级别：auto 自动，2 硬件，1 兼容，0 软件（白屏/黑屏时设为 0） / Rendering level: "
            "auto, 2 hardware, 1 compatibility, 0 software"),
    Setting("camera", "device", t.Text(), "",
            "摄像头名称或编号（空 = 自动选择前置摄像头） / Camera name or index; empty = pick the "
            "front camera"),
    Setting("camera", "source", t.OptionalPath(), None,
            "用视频/图片文件代替摄像头（测试、演示、技术支持） / Video or image file used instead "
            "of a camera (tests, demos, support)", trusted_only=True),
    Setting("camera", "enabled", t.Boolean(), True,
            "是否进行人脸识别身份核验 / Whether identity is verified with the camera",
            trusted_only=True),
    Setting("camera", "match_threshold", t.Decimal(-1.0, 1.0), 0.363,
            "人脸比对阈值（SFace 余弦相似度，见 docs/camera.md 的余量说明） / Face match "
            "threshold, SFace cosine similarity (margins: docs/camera.md)", trusted_only=True),
    Setting("camera", "max_failures_before_proctor", t.Integer(1, 10), 3,
            "核验失败几次后可请监考教师人工核验 / Failures before the proctor can verify by "
            "hand", trusted_only=True),
    Setting("camera", "challenge_min_count", t.Integer(1, 4), 2,
            "活体检测最少动作数 / Fewest liveness challenges", trusted_only=True),
    Setting("camera", "challenge_max_count", t.Integer(1, 4), 3,
            "活体检测最多动作数 / Most liveness challenges", trusted_only=True),
    Setting("camera", "challenge_timeout_s", t.Decimal(2.0, 30.0), 6.0,
            "每个动作的限时（秒） / Seconds allowed per challenge", trusted_only=True),
    Setting("camera", "monitor_interval_s", t.Decimal(1.0, 120.0), 5.0,
            "考试中每隔几秒分析一帧画面 / Seconds between proctoring analyses",
            trusted_only=True),
    Setting("camera", "monitor_debounce", t.Integer(1, 20), 2,
            "连续几次异常才记录事件 / Consecutive anomalies before an event is recorded",
            trusted_only=True),
    Setting("camera", "review_no_face_total_s", t.Decimal(5.0, 3600.0), 60.0,
            "累计离开画面多少秒后成绩待审核 / Total seconds without a face before the result "
            "is held for review", trusted_only=True),
    Setting("camera", "flip_horizontal", t.Boolean(), False,
            "镜像摄像头画面 / Mirror the camera picture"),
    Setting("logging", "level", t.Choice(("DEBUG", "INFO", "WARNING", "ERROR")), "INFO",
            "日志级别 / Log level"),
    Setting("logging", "keep_files", t.Integer(1, 50), 5,
            "保留的日志文件个数 / Number of rotated log files to keep"),
    # Machine-wide only: the heartbeat brings pauses and extra time; a candidate's user.ini
    # must not be able to slow it down.
    Setting("sync", "heartbeat_seconds", t.Decimal(5.0, 120.0), 12.0,
            "心跳间隔（秒）：与服务器确认在线并获取考试时钟 / Seconds between heartbeats "
            "(presence, the attempt's end time and pause)", trusted_only=True),
)
