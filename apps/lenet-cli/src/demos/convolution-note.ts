/**
 * Convolution and cross-correlation in two sentences, as `demo conv` and --help print them: why
 * the tutorial's drawn filters are flipped before they become our conv2d weights.
 */
export const CONVOLUTION_NOTE = [
  "Cross-correlation (conv2d in Tessera and PyTorch) slides each filter over the image as it is; convolution (Theano's conv2d, which the tutorial used) first flips the filter on both spatial axes.",
  "So a cross-correlation with each filter flipped computes the convolution with the filters as drawn: flipping is how Tessera starts from the tutorial's exact numbers.",
] as const;
