import ITREvents

/// What customers write, by service type and language, so the sample exercises every service type:
/// phrases with a category hint are decided by the explicit-signal rules of
/// deploy/config/classification.yaml, the others by the service-type model. (Not training data:
/// the model's corpus is deploy/classifier/corpus, written apart from these templates.)
enum SampleText {
    struct Phrase {
        var summary: String
        var description: String
        var categoryHint: String?
    }

    static func phrases(_ type: ServiceType, _ language: Language) -> [Phrase] {
        switch (type, language) {
        case (.hardwareFault, .zh):
            return [
                Phrase(summary: "电源模块故障，指示灯红色", description: "机房巡视发现2号电源模块指示灯红色，设备单电源运行。", categoryHint: "硬件"),
                Phrase(summary: "风扇框告警，风扇转速异常", description: "风扇框上报转速过低，设备温度上升。", categoryHint: nil),
                Phrase(summary: "光模块收光功率过低", description: "25G 光模块收光异常，链路闪断。", categoryHint: nil),
                Phrase(summary: "存储硬盘故障，坏盘需更换", description: "3号槽位硬盘状态为故障，阵列降级运行。", categoryHint: "hardware"),
            ]
        case (.hardwareFault, .en):
            return [
                Phrase(summary: "Power supply failure, red LED on PSU 2", description: "PSU 2 shows a red LED; the chassis runs on one power supply.", categoryHint: "hardware"),
                Phrase(summary: "Fan failure reported on fan tray", description: "Fan tray reports low speed, temperature rising.", categoryHint: nil),
                Phrase(summary: "Disk failure in storage array", description: "Disk in slot 3 failed; the array is degraded.", categoryHint: nil),
            ]
        case (.softwareFault, .zh):
            return [
                Phrase(summary: "设备异常重启，疑似软件问题", description: "凌晨设备异常重启两次，日志显示进程崩溃。", categoryHint: nil),
                Phrase(summary: "升级失败，版本回退", description: "按指导书升级后业务中断，已回退到原版本。", categoryHint: "软件"),
                Phrase(summary: "管理进程内存泄漏", description: "管理进程内存持续增长，需要定期重启。", categoryHint: nil),
            ]
        case (.softwareFault, .en):
            return [
                Phrase(summary: "Router crash with core dump", description: "The control plane crashed and wrote a core dump; service down for 5 minutes.", categoryHint: nil),
                Phrase(summary: "Upgrade failed, rolled back", description: "Upgrade failed at step 4; we rolled back.", categoryHint: "software"),
                Phrase(summary: "Memory leak in management process", description: "Memory grows 2% per hour until reboot.", categoryHint: nil),
            ]
        case (.softwareOperation, .zh):
            return [
                Phrase(summary: "如何配置BGP邻居认证", description: "请提供配置命令示例。", categoryHint: nil),
                Phrase(summary: "咨询：怎样导出设备配置", description: "需要定期备份配置，请问操作步骤。", categoryHint: nil),
            ]
        case (.softwareOperation, .en):
            return [
                Phrase(summary: "How to configure LACP on the uplinks", description: "Please send the configuration steps.", categoryHint: nil),
                Phrase(summary: "Question about the SNMP trap command", description: "How do I send traps to two servers?", categoryHint: nil),
            ]
        case (.nonTechnical, .zh):
            return [
                Phrase(summary: "请提供上季度服务发票", description: "财务需要发票用于付款。", categoryHint: nil),
                Phrase(summary: "申请运维培训名额", description: "希望安排两名工程师参加培训。", categoryHint: nil),
            ]
        case (.nonTechnical, .en):
            return [
                Phrase(summary: "Please send the invoice for Q3", description: "Our billing team needs the invoice copy.", categoryHint: nil),
                Phrase(summary: "Training request for two engineers", description: "We would like to book the training.", categoryHint: nil),
            ]
        case (.newRequirement, .zh):
            return [
                Phrase(summary: "希望增加SRv6功能支持", description: "新业务需要SRv6，请评估新功能。", categoryHint: nil),
                Phrase(summary: "存储扩容需求", description: "容量即将用尽，计划扩容200TB。", categoryHint: nil),
            ]
        case (.newRequirement, .en):
            return [
                Phrase(summary: "Feature request: telemetry streaming", description: "We need a new feature for gNMI telemetry.", categoryHint: nil),
                Phrase(summary: "Capacity expansion for the data centre fabric", description: "Capacity expansion of 40 ports next quarter.", categoryHint: nil),
            ]
        case (.complaint, .zh):
            return [
                Phrase(summary: "投诉：现场工程师态度差", description: "对上次服务非常不满意，要求给出说明。", categoryHint: "投诉"),
                Phrase(summary: "故障处理太慢，客户不满意", description: "对处理进度不满意，考虑索赔。", categoryHint: nil),
            ]
        case (.complaint, .en):
            return [
                Phrase(summary: "Complaint about response time", description: "Unacceptable service during last week's outage.", categoryHint: "complaint"),
            ]
        case (.preventiveMaintenance, .zh):
            return [
                Phrase(summary: "季度巡检预约", description: "请安排本季度例行巡检。", categoryHint: "巡检"),
            ]
        case (.preventiveMaintenance, .en):
            return [
                Phrase(summary: "Quarterly health check", description: "Please schedule the preventive maintenance visit.", categoryHint: "maintenance"),
            ]
        }
    }

    /// Faults that recur across customers on one product version: these must become problems
    /// (3 incidents with one fingerprint within 7 days) and, when the product caused them, defects.
    struct RecurringFault {
        var line: String
        var model: String
        var version: String
        var component: String
        var summary: String
        var description: String
        var resolutionCode: String
        var rootCause: String
        var workaround: String
        var occurrences: ClosedRange<Int>
    }

    static let recurringFaults: [RecurringFault] = [
        RecurringFault(
            line: "routers", model: "RX8000", version: "V8R12", component: "LPU",
            summary: "线卡异常重启，日志显示进程崩溃", description: "RX8000 V8R12 线卡每天异常重启，core dump 指向转发进程。",
            resolutionCode: "SW-DEFECT", rootCause: "转发进程在 ECMP 表项刷新时空指针", workaround: "关闭 ECMP 快速刷新：undo ecmp fast-refresh",
            occurrences: 8...12),
        RecurringFault(
            line: "storage", model: "OS5000", version: "6.1.5", component: "controller",
            summary: "Controller reboot with core dump during snapshot", description: "OS5000 6.1.5 controller crashes while snapshots are deleted.",
            resolutionCode: "SW-REGRESSION", rootCause: "snapshot GC race introduced in 6.1.5", workaround: "pause snapshot deletion between 01:00 and 03:00",
            occurrences: 6...9),
        RecurringFault(
            line: "switches", model: "SX6800", version: "V2R5", component: "PSU",
            summary: "电源模块故障，指示灯红色", description: "SX6800 600W 电源模块批量失效。",
            resolutionCode: "HW-DESIGN", rootCause: "PSU capacitor under-dimensioned", workaround: "replace the PSU with revision B",
            occurrences: 5...8),
        RecurringFault(
            line: "optical", model: "OX9600", version: "V100R021", component: "OTU",
            summary: "OTU board memory leak, board reboot", description: "OX9600 OTU board memory leak after 30 days uptime.",
            resolutionCode: "SW-DEFECT", rootCause: "alarm history buffer never freed", workaround: "reset the board during a maintenance window",
            occurrences: 4...6),
        RecurringFault(
            line: "switches", model: "SX5700", version: "V5R1", component: "uplink",
            summary: "Uplink flapping after commissioning", description: "SX5700 uplink ports flap; wrong LACP mode configured at commissioning.",
            resolutionCode: "INSTALL-CONFIG", rootCause: "LACP mode mismatch set during commissioning", workaround: "set LACP to active on both ends",
            occurrences: 4...5),
    ]

    /// Alarm codes of the monitoring systems (prefixes match the classification rules).
    static let alarmCodes: [(code: String, line: String, text: String)] = [
        ("PWR-0301", "routers", "Power input lost"), ("FAN-0102", "switches", "Fan speed below threshold"),
        ("OPT-0412", "optical", "Optical receive power low"), ("BRD-0007", "routers", "Board not in position"),
        ("DSK-0220", "storage", "Disk failure"), ("SW-1001", "routers", "Process restarted"),
        ("MEM-0033", "switches", "Memory usage above 90%"), ("LIC-0010", "storage", "License expires soon"),
        ("CFG-0500", "optical", "Configuration mismatch"),
    ]

    /// Spare parts by product line (part numbers from the catalogue's price list).
    static let spareParts: [String: [String]] = [
        "routers": ["02310QKM", "02310QKN", "03031ABC"], "switches": ["02130752"],
        "storage": ["02352FSL", "03058RTY"], "optical": ["34061584", "34061617", "03031XQP"],
    ]

    static let engineers = ["eng-li.wei", "eng-zhang.min", "eng-wang.fang", "eng-chen.jie", "eng-m.keller", "eng-liu.yang"]
}
