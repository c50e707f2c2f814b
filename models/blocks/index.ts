// The building blocks of the zoo, public (`wasmcnn/blocks`): every family in models/ is built
// from exactly these. Each block has the form `block(b, x, prefix, options): string`: the
// GraphBuilder, the input value's name, the state_dict prefix of the block's weights (as the
// reference implementation names them), its options; it returns the output value's name. Compose
// new networks the way the zoo does:
//
//   const b = new GraphBuilder();
//   let x = convBnAct(b, b.input('input', [1, 3, 64, 64]), { conv: 'stem.conv', bn: 'stem.bn' }, { out: 16, kernel: 3, stride: 2, pad: 1 });
//   x = invertedResidual(b, x, 'blocks.0', { out: 24, expanded: 64, stride: 2, attention: 'cbam' });
//   b.output(b.linear(b.flatten(b.globalAvgPool(x)), 'fc', 10), 'logits');
export * from './common';
export * from './attention';
export * from './mobile';
export * from './ghost';
export * from './shuffle';
export * from './repvgg';
export * from './convnext';
export * from './inception';
export * from './dense';
export * from './resnet';
