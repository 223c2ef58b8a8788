// LINE message objects as a scenario may write them, with the limits LINE documents
// (Messaging API reference, "Message objects"). String lengths are counted in UTF-16
// units, as LINE counts them and as JavaScript's String#length does.
import { z } from 'zod';
import type { messagingApi } from '@line/bot-sdk';

import { LINE_LIMITS } from '../contract/line-limits.js';

export { LINE_LIMITS };

/**
 * A string of at most `max` UTF-16 units. zod's own .max() counts code points, so an
 * emoji would count once where LINE counts it twice; the JSON Schema keeps maxLength
 * as a hint for editors.
 */
export function lineString(max: number, message: string) {
  return z
    .string()
    .refine((v) => v.length <= max, { message })
    .meta({ maxLength: max });
}

/**
 * A part the schema checks only in outline (its type, label and the limits LINE documents),
 * typed as the SDK's own type: LINE checks the rest when it receives the message. So a
 * scenario message is the SDK's messagingApi.Message, checked by the type test
 * test/scenario/message-types.test.ts, and the sender's cast to it is sound.
 */
function sdkTyped<T>(schema: z.ZodType): z.ZodType<T, T> {
  return schema as unknown as z.ZodType<T, T>;
}

// A URL may hold placeholders ({{user.memberId}}); it must start as https:// once rendered.
const HttpsUrl = lineString(
  LINE_LIMITS.urlLength,
  `LINE accepts URLs of at most ${LINE_LIMITS.urlLength} characters`,
).regex(/^(https:\/\/|\{\{)/, { message: 'LINE only loads media over HTTPS: the URL must start with https://' });

const Action = sdkTyped<messagingApi.Action>(
  z
    .looseObject({
      type: z.enum([
        'postback',
        'message',
        'uri',
        'datetimepicker',
        'camera',
        'cameraRoll',
        'location',
        'richmenuswitch',
        'clipboard',
      ]),
      label: lineString(
        LINE_LIMITS.actionLabel,
        `an action label is at most ${LINE_LIMITS.actionLabel} characters`,
      ).optional(),
    })
    .describe('A LINE action object (postback, message, uri, ...).')
    .meta({ id: 'Action' }),
);

const QuickReply = z.strictObject({
  items: z
    .array(z.strictObject({ type: z.literal('action'), imageUrl: HttpsUrl.optional(), action: Action }))
    .min(1)
    .max(LINE_LIMITS.quickReplyItems, {
      message: `LINE shows at most ${LINE_LIMITS.quickReplyItems} quick reply buttons`,
    }),
});

const Common = {
  quickReply: QuickReply.optional(),
  sender: z
    .strictObject({
      name: lineString(
        LINE_LIMITS.senderName,
        `a sender name is at most ${LINE_LIMITS.senderName} characters`,
      ).optional(),
      iconUrl: HttpsUrl.optional(),
    })
    .optional(),
};

export const TextMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('text'),
  text: lineString(
    LINE_LIMITS.textLength,
    `LINE accepts at most ${LINE_LIMITS.textLength} characters (UTF-16 units; an emoji counts 2) in a text message: shorten it or split it into two messages`,
  ).min(1, { message: 'a text message cannot be empty' }),
  emojis: z
    .array(
      sdkTyped<messagingApi.Emoji>(
        z.looseObject({ index: z.int().min(0), productId: z.string(), emojiId: z.string() }),
      ),
    )
    .max(20)
    .optional(),
});

const ImageMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('image'),
  originalContentUrl: HttpsUrl,
  previewImageUrl: HttpsUrl,
});

const VideoMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('video'),
  originalContentUrl: HttpsUrl,
  previewImageUrl: HttpsUrl,
  trackingId: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'()*+,\-./:;<=>?@[\]^_`{|}~]{1,100}$/)
    .optional(),
});

const AudioMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('audio'),
  originalContentUrl: HttpsUrl,
  duration: z.int().positive(),
});

const StickerMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('sticker'),
  packageId: z.string().regex(/^[0-9]+$/, { message: 'packageId is a number written as a string, e.g. "446"' }),
  stickerId: z.string().regex(/^[0-9]+$/, { message: 'stickerId is a number written as a string, e.g. "1988"' }),
});

const LocationMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('location'),
  title: lineString(100, 'a location title is at most 100 characters').min(1),
  address: lineString(100, 'a location address is at most 100 characters').min(1),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

const FlexMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('flex'),
  altText: lineString(LINE_LIMITS.flexAltText, `a flex altText is at most ${LINE_LIMITS.flexAltText} characters`).min(
    1,
  ),
  contents: sdkTyped<messagingApi.FlexContainer>(
    z.union([
      z.looseObject({ type: z.literal('bubble') }),
      z.looseObject({
        type: z.literal('carousel'),
        contents: z
          .array(z.looseObject({ type: z.literal('bubble') }))
          .min(1)
          .max(LINE_LIMITS.carouselBubbles, {
            message: `a flex carousel holds at most ${LINE_LIMITS.carouselBubbles} bubbles`,
          }),
      }),
    ]),
  ),
});

const Column = z.looseObject({ actions: z.array(Action).max(3).optional() });
const TemplateSchema = sdkTyped<messagingApi.Template>(
  z.discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('buttons'),
      thumbnailImageUrl: HttpsUrl.optional(),
      title: lineString(40, 'a buttons template title is at most 40 characters').optional(),
      text: lineString(160, 'buttons template text is at most 160 characters (60 with a title or image)').min(1),
      actions: z
        .array(Action)
        .min(1)
        .max(LINE_LIMITS.buttonsActions, {
          message: `a buttons template has at most ${LINE_LIMITS.buttonsActions} actions`,
        }),
    }),
    z.looseObject({
      type: z.literal('confirm'),
      text: lineString(240, 'confirm template text is at most 240 characters').min(1),
      actions: z.array(Action).length(2, { message: 'a confirm template has exactly 2 actions' }),
    }),
    z.looseObject({
      type: z.literal('carousel'),
      columns: z
        .array(Column)
        .min(1)
        .max(LINE_LIMITS.templateColumns, {
          message: `a carousel template has at most ${LINE_LIMITS.templateColumns} columns`,
        }),
    }),
    z.looseObject({
      type: z.literal('image_carousel'),
      columns: z
        .array(Column)
        .min(1)
        .max(LINE_LIMITS.templateColumns, {
          message: `an image carousel has at most ${LINE_LIMITS.templateColumns} columns`,
        }),
    }),
  ]),
);

const TemplateMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('template'),
  altText: lineString(
    LINE_LIMITS.templateAltText,
    `a template altText is at most ${LINE_LIMITS.templateAltText} characters`,
  ).min(1),
  template: TemplateSchema,
});

const ImagemapMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('imagemap'),
  baseUrl: HttpsUrl,
  altText: lineString(
    LINE_LIMITS.imagemapAltText,
    `an imagemap altText is at most ${LINE_LIMITS.imagemapAltText} characters`,
  ).min(1),
  baseSize: z.strictObject({
    width: z.literal(1040, { message: 'an imagemap baseSize.width is 1040' }),
    height: z.int().positive(),
  }),
  actions: z
    .array(sdkTyped<messagingApi.ImagemapAction>(z.looseObject({ type: z.enum(['uri', 'message', 'clipboard']) })))
    .min(1)
    .max(LINE_LIMITS.imagemapActions),
  video: sdkTyped<messagingApi.ImagemapVideo>(z.looseObject({})).optional(),
});

/** A coupon id as LINE issues them (letters, digits, "_" and "-"); validate --line checks it exists on the channel. */
export const COUPON_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** LINE's coupon message (Coupon API): sends a coupon made in LINE Official Account Manager or by the API. */
const CouponMessageSchema = z.strictObject({
  ...Common,
  type: z.literal('coupon'),
  couponId: z.string().regex(COUPON_ID, {
    message:
      'a coupon id is the id LINE gave the coupon (letters, digits, "_" and "-", at most 100): copy it from LINE Official Account Manager or GET /v2/bot/coupon',
  }),
  deliveryTag: z
    .string()
    .min(1)
    .max(30, { message: 'a coupon deliveryTag is at most 30 characters' })
    .optional()
    .describe("A tag for LINE Official Account Manager's analysis of where the coupon was delivered."),
});

export const MessageSchema = z
  .discriminatedUnion('type', [
    TextMessageSchema,
    ImageMessageSchema,
    VideoMessageSchema,
    AudioMessageSchema,
    StickerMessageSchema,
    LocationMessageSchema,
    FlexMessageSchema,
    TemplateMessageSchema,
    ImagemapMessageSchema,
    CouponMessageSchema,
  ])
  .meta({ id: 'Message' });

export type Message = z.infer<typeof MessageSchema>;
export type TextMessage = z.infer<typeof TextMessageSchema>;
