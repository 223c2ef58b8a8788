// The scenario's message objects go to LINE as the SDK's messagingApi.Message (the sender
// casts them: src/line/line-calls.ts). These type tests make that cast checked: tsc fails
// (npm run typecheck) when a scenario message could be something the SDK's type is not.
import { expectTypeOf, test } from 'vitest';
import type { messagingApi } from '@line/bot-sdk';
import type { Message, TextMessage } from '../../src/scenario/messages.js';

test('a scenario message is a LINE SDK message', () => {
  expectTypeOf<Message>().toExtend<messagingApi.Message>();
  expectTypeOf<Message[]>().toExtend<messagingApi.Message[]>();
});

test('each message type of the language is the SDK type of the same name', () => {
  expectTypeOf<TextMessage>().toExtend<messagingApi.TextMessage>();
  expectTypeOf<Extract<Message, { type: 'image' }>>().toExtend<messagingApi.ImageMessage>();
  expectTypeOf<Extract<Message, { type: 'video' }>>().toExtend<messagingApi.VideoMessage>();
  expectTypeOf<Extract<Message, { type: 'audio' }>>().toExtend<messagingApi.AudioMessage>();
  expectTypeOf<Extract<Message, { type: 'sticker' }>>().toExtend<messagingApi.StickerMessage>();
  expectTypeOf<Extract<Message, { type: 'location' }>>().toExtend<messagingApi.LocationMessage>();
  expectTypeOf<Extract<Message, { type: 'flex' }>>().toExtend<messagingApi.FlexMessage>();
  expectTypeOf<Extract<Message, { type: 'template' }>>().toExtend<messagingApi.TemplateMessage>();
  expectTypeOf<Extract<Message, { type: 'imagemap' }>>().toExtend<messagingApi.ImagemapMessage>();
});
