/**
 * Vietnamese texts of the operator-facing parts added for running the network day to day: outputs,
 * live state, refusals, names of actions in the audit log, approvals, grouped alerts.
 */
export const viOps = {
  'device.onAirTone': 'Âm thử',
  'overview.playRateAudio': 'Tỷ lệ phát trên loa',
  'overview.playRateDisplay': 'Tỷ lệ hiển thị trên bảng tin',
  'out.audio': 'Loa',
  'out.display': 'Bảng tin',
  'out.header': 'Đầu ra',
  'emg.completed': 'Đã phát xong',
  'emg.done': 'Đã phát xong {done}/{total}',
  'emg.summaryMixed': '{playing}/{total} đang phát, {done} đã phát xong',
} as const;
