/** Vietnamese texts of the report page (effectiveness from proofs and presence). */
export const viReports = {
  'rep.displayed': 'Đã hiển thị',
  'rep.planned': 'Theo kế hoạch',
  'rep.essential': 'Tin ưu tiên, khẩn cấp đến được',
  'rep.missedBy': 'Cụm không phát',
  'rep.faults': 'Sự cố',
  'rep.brief': 'Cảnh báo ngắn (khởi động, thoáng qua)',
  'rep.outages': 'Lần mất kết nối',
  'rep.uptimeNote':
    'Tính từ các lần kết nối và ngắt kết nối của thiết bị; thời gian máy chủ ngừng không tính.',
  'rep.noObservation': 'chưa quan sát được',
  'rep.exportXlsx': 'Xuất Excel',
  'rep.plays': 'Lượt phát chi tiết',
  'rep.kpi': 'Chỉ tiêu kế hoạch',
  'rep.kpiFigure': 'Kết quả',
  'rep.kpiTarget': 'Chỉ tiêu',
  'rep.kpiSource': 'Nguồn số liệu',
  'rep.kpiMet': 'Đạt',
  'rep.kpiNotMet': 'Chưa đạt',
} as const;
