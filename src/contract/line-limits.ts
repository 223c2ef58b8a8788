// LINE's limits, in one place: the scenario schema checks messages against them, the
// batching rules (src/line/batching.ts) cut requests by them. (The SQL repeats
// multicastRecipients: the outbox_batches check and the claim's merge of batches.)
export const LINE_LIMITS = {
  messagesPerRequest: 5,
  textLength: 5000,
  flexAltText: 1500,
  imagemapAltText: 1500,
  templateAltText: 400,
  urlLength: 2000,
  quickReplyItems: 13,
  actionLabel: 20,
  senderName: 20,
  /** Recipients of one multicast. */
  multicastRecipients: 500,
  /** Users of one bulk rich menu link or unlink request. */
  bulkRichMenuUsers: 500,
  carouselBubbles: 12,
  templateColumns: 10,
  buttonsActions: 4,
  imagemapActions: 50,
} as const;
